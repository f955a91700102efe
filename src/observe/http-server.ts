import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ConfigError, errorMessage } from '../errors.js';
import type { Metrics } from './metrics.js';
import type { StatusBoard } from './status-board.js';

export interface EndpointSources {
  metrics: Metrics;
  status: StatusBoard;
  /** False once the main loop has stopped (shutdown under way): /healthz then answers 503. */
  alive: () => boolean;
}

/**
 * The one HTTP server of -metrics-addr: GET (or HEAD) /metrics, /healthz, /readyz and /status; any other
 * path is 404, any other method 405. Never anything that could carry a secret: status messages are
 * masked like log lines.
 */
export class EndpointServer {
  private server: Server | undefined;

  constructor(private readonly sources: EndpointSources) {}

  /** Listens on host:port; resolves with the address actually bound (port 0 picks one). */
  async listen(address: string): Promise<string> {
    const { createServer } = await import('node:http');
    const { host, port } = splitAddress(address);
    const server = createServer((req, res) => void this.handle(req, res));
    // A scrape must never keep a stopping process alive.
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new ConfigError(`-metrics-addr ${address}: cannot listen: ${errorMessage(err)}`)),
      );
      server.listen({ host: host || undefined, port }, resolve);
    });
    this.server = server;
    const bound = server.address();
    if (bound && typeof bound === 'object')
      return bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
    return address;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = ROUTES[path ?? ''];
    if (!route) return send(res, req, 404, 'text/plain; charset=utf-8', 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, req, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    try {
      const { status, type, body } = await route(this.sources);
      send(res, req, status, type, body);
    } catch (err) {
      send(res, req, 500, 'text/plain; charset=utf-8', `${errorMessage(err)}\n`);
    }
  }
}

type Route = (sources: EndpointSources) => Promise<{ status: number; type: string; body: string }>;

const JSON_TYPE = 'application/json; charset=utf-8';

const ROUTES: Readonly<Record<string, Route>> = {
  '/metrics': async ({ metrics }) => {
    const { body, contentType } = await metrics.render();
    return { status: 200, type: contentType, body };
  },
  '/healthz': async (sources) =>
    sources.alive()
      ? { status: 200, type: 'text/plain; charset=utf-8', body: 'ok\n' }
      : { status: 503, type: 'text/plain; charset=utf-8', body: 'stopping\n' },
  '/readyz': async ({ status }) => {
    const readiness = status.readiness();
    return { status: readiness.ready ? 200 : 503, type: JSON_TYPE, body: `${JSON.stringify(readiness)}\n` };
  },
  '/status': async ({ status }) => ({
    status: 200,
    type: JSON_TYPE,
    body: `${JSON.stringify(status.snapshot(), null, 2)}\n`,
  }),
};

function send(res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** "127.0.0.1:9100", "[::1]:9100", ":9100" (every interface). Validated by the setting already. */
export function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(at + 1)) };
}
