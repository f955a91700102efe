import type { IncomingMessage } from 'node:http';
import { errorMessage } from '../errors.js';
import { EndpointRotation } from './etcd-faults.js';
import { etcdTlsOptions } from './etcd-tls.js';
import {
  HttpTimeoutError,
  readBody as readResponse,
  sendRequest,
  type HttpTransport,
} from './http-request.js';
import type { TlsFiles } from './tls-files.js';

/** gRPC status codes etcd's gateway reports in its error bodies. */
export const GRPC_FAILED_PRECONDITION = 9;
export const GRPC_UNAVAILABLE = 14;
export const GRPC_UNAUTHENTICATED = 16;

/**
 * One failed try of an etcd request: `kind` "connection" (refused, reset, TLS), "timeout" (no answer within
 * the deadline) or "server" (etcd answered with an error; `code` is its gRPC status code).
 */
export class EtcdRequestError extends Error {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly kind: 'connection' | 'timeout' | 'server',
    readonly code?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EtcdRequestError';
  }

  /** Worth trying another endpoint: this one is unreachable, or has no leader. */
  get failsOver(): boolean {
    return this.kind !== 'server' || this.code === GRPC_UNAVAILABLE;
  }
}

export interface EtcdHttpOptions {
  endpoints: readonly string[];
  tls: TlsFiles;
  /** Bound for each try of a request (and for a stream to answer). */
  requestTimeoutMs: number;
  /** -basic-auth: requests carry a token got from these credentials. */
  credentials?: { username: string; password: string };
}

/** An open response stream (a watch), with the request behind it so it can be ended. */
export interface EtcdStream {
  readonly endpoint: string;
  readonly response: IncomingMessage;
  /** Ends the stream at once: no answer from the server is waited for. */
  destroy(): void;
}

type Token = string | undefined;

/** What a caller sets on one request: its abort signal, and a deadline per try other than the default. */
export interface EtcdCall {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * etcd's gRPC gateway (HTTP/JSON, `/v3/...`) over node:http(s): every request is a POST of a JSON body to
 * one endpoint, failing over to the next as EndpointRotation orders them. With credentials, a token from
 * /v3/auth/authenticate goes in the Authorization header; a request refused for an invalid (expired) token
 * authenticates again once. The token and the password never appear in an error.
 */
export class EtcdHttp {
  private readonly rotation: EndpointRotation;
  private token: Promise<Token> | undefined;
  /** What `token` resolved to: a refusal of this value means it must be renewed. */
  private lastToken: Token;
  private closed = false;

  private constructor(
    private readonly options: EtcdHttpOptions,
    private readonly transports: Partial<Record<'http:' | 'https:', HttpTransport>>,
  ) {
    this.rotation = new EndpointRotation(options.endpoints);
  }

  /** Loads node:http, or node:https (tens of ms more: TLS) only when an endpoint needs it. */
  static async create(options: EtcdHttpOptions): Promise<EtcdHttp> {
    const transports: Partial<Record<'http:' | 'https:', HttpTransport>> = {};
    // Keep-alive: a snapshot of many transactions, or a daemon's reads, reuse one connection.
    if (options.endpoints.some((e) => e.startsWith('https://'))) {
      const https = await import('node:https');
      const agent = new https.Agent({ keepAlive: true, ...etcdTlsOptions(options.tls) });
      transports['https:'] = { agent, request: https.request };
    }
    if (options.endpoints.some((e) => e.startsWith('http://'))) {
      const http = await import('node:http');
      transports['http:'] = { agent: new http.Agent({ keepAlive: true }), request: http.request };
    }
    return new EtcdHttp(options, transports);
  }

  /** POSTs `body` to `path` and resolves with the parsed answer; rejects with an EtcdRequestError. */
  async post<T>(path: string, body: unknown, call: EtcdCall = {}): Promise<T> {
    const text = JSON.stringify(body);
    const token = await this.currentToken(call);
    try {
      return await this.failover((endpoint) => this.postOnce<T>(endpoint, path, text, token, call), call);
    } catch (err) {
      if (token === undefined || !isInvalidToken(err)) throw err;
      return this.failover(
        async (endpoint) => this.postOnce<T>(endpoint, path, text, await this.renewToken(token, call), call),
        call,
      );
    }
  }

  /** Opens a response stream: resolves once etcd answered with its headers (within the request deadline). */
  async stream(path: string, body: unknown): Promise<EtcdStream> {
    const text = JSON.stringify(body);
    const token = await this.currentToken();
    return this.failover((endpoint) => this.openOnce(endpoint, path, text, token));
  }

  /** Authenticates now when credentials are set (so wrong ones fail at start), then the first request. */
  async authenticate(call: EtcdCall = {}): Promise<void> {
    await this.currentToken(call);
  }

  /** Destroys every connection, in use or idle; later requests fail at once. */
  close(): void {
    this.closed = true;
    for (const transport of Object.values(this.transports)) transport.agent.destroy();
  }

  private currentToken(call: EtcdCall = {}): Promise<Token> {
    if (!this.options.credentials) return Promise.resolve(undefined);
    if (this.token === undefined) {
      const token = this.fetchToken(call);
      this.token = token;
      // A failed authentication is not kept: the next request tries again.
      token.then(
        (value) => {
          if (this.token === token) this.lastToken = value;
        },
        () => {
          if (this.token === token) this.token = undefined;
        },
      );
    }
    return this.token;
  }

  /** The token `stale` was refused: a new one, shared by every request that saw the same refusal. */
  private renewToken(stale: Token, call: EtcdCall = {}): Promise<Token> {
    if (this.lastToken === stale) {
      this.lastToken = undefined;
      this.token = undefined;
    }
    return this.currentToken(call);
  }

  private async fetchToken(call: EtcdCall = {}): Promise<Token> {
    const { username, password } = this.options.credentials ?? { username: '', password: '' };
    const text = JSON.stringify({ name: username, password });
    try {
      const answer = await this.failover(
        (endpoint) =>
          this.postOnce<{ token?: string }>(endpoint, '/v3/auth/authenticate', text, undefined, call),
        call,
      );
      return answer.token;
    } catch (err) {
      // As etcd's own client does: credentials for a server without auth are not an error.
      if (
        err instanceof EtcdRequestError &&
        err.code === GRPC_FAILED_PRECONDITION &&
        /not enabled/.test(err.message)
      )
        return undefined;
      throw err;
    }
  }

  /** Runs `attempt` on each endpoint in turn until one answers; the last failure when none does. */
  private async failover<T>(attempt: (endpoint: string) => Promise<T>, call: EtcdCall = {}): Promise<T> {
    let last: unknown;
    for (const endpoint of this.rotation.order()) {
      call.signal?.throwIfAborted();
      if (this.closed) throw new EtcdRequestError('the client is closed', endpoint, 'server');
      try {
        const result = await attempt(endpoint);
        this.rotation.succeeded(endpoint);
        return result;
      } catch (err) {
        if (call.signal?.aborted || !(err instanceof EtcdRequestError) || !err.failsOver) throw err;
        this.rotation.failed(endpoint);
        last = err;
      }
    }
    throw last;
  }

  private async postOnce<T>(
    endpoint: string,
    path: string,
    body: string,
    token: Token,
    call: EtcdCall = {},
  ): Promise<T> {
    const response = await this.send(endpoint, path, body, token, call);
    const text = await readBody(response, endpoint, call.signal);
    if (response.statusCode !== 200) throw serverError(endpoint, response.statusCode, text);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new EtcdRequestError(`unreadable answer from ${endpoint}${path}`, endpoint, 'server', undefined, {
        cause: err,
      });
    }
  }

  private async openOnce(endpoint: string, path: string, body: string, token: Token): Promise<EtcdStream> {
    const response = await this.send(endpoint, path, body, token, {}, true);
    if (response.statusCode !== 200)
      throw serverError(endpoint, response.statusCode, await readBody(response, endpoint));
    return { endpoint, response, destroy: () => response.destroy() };
  }

  /**
   * One request to one endpoint, within the deadline: the whole answer of a request (read by `readBody`),
   * the headers of a stream (which then lasts as long as its holder wants).
   */
  private async send(
    endpoint: string,
    path: string,
    body: string,
    token: Token,
    call: EtcdCall = {},
    stream = false,
  ): Promise<IncomingMessage> {
    const timeoutMs = call.timeoutMs ?? this.options.requestTimeoutMs;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers.authorization = token;
    // A watch on a member cut off from its cluster would stay open and silent: asking for a leader
    // (etcd's WithRequireLeader, passed by the gateway as gRPC metadata) makes etcd cancel it instead,
    // and the watch is opened again on a member that has one.
    if (stream) headers['grpc-metadata-hasleader'] = 'true';
    const transport = this.transports[endpoint.startsWith('https://') ? 'https:' : 'http:'];
    if (!transport) throw new EtcdRequestError(`no transport for ${endpoint}`, endpoint, 'server');
    try {
      return await sendRequest(transport, `${endpoint}${path}`, {
        method: 'POST',
        headers,
        body,
        timeoutMs,
        signal: call.signal,
        stream,
      });
    } catch (err) {
      throw requestError(endpoint, err, call.signal);
    }
  }
}

/** The body of a response; a failure while reading is the endpoint's (or the deadline's, or the abort's). */
async function readBody(response: IncomingMessage, endpoint: string, signal?: AbortSignal): Promise<string> {
  try {
    return await readResponse(response);
  } catch (err) {
    throw requestError(endpoint, err, signal);
  }
}

/** A failed transport as an EtcdRequestError; an abort stays the signal's reason. */
function requestError(endpoint: string, err: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted || err instanceof EtcdRequestError) return err;
  if (err instanceof HttpTimeoutError) {
    const message = `deadline exceeded: no answer from ${endpoint} within ${err.timeoutMs} ms`;
    return new EtcdRequestError(message, endpoint, 'timeout');
  }
  return new EtcdRequestError(errorMessage(err), endpoint, 'connection', undefined, { cause: err });
}

/** etcd's error body: {"error": "...", "message": "...", "code": <gRPC status>}. */
function serverError(endpoint: string, status: number | undefined, text: string): EtcdRequestError {
  let message = `HTTP ${status ?? '?'}`;
  let code: number | undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; code?: unknown };
    const said = typeof body.message === 'string' ? body.message : body.error;
    if (typeof said === 'string' && said !== '') message = said;
    if (typeof body.code === 'number') code = body.code;
  } catch {
    // Not etcd's answer (a proxy's page, say): its text is not ours to repeat in an error.
  }
  return new EtcdRequestError(message, endpoint, 'server', code);
}

/** A request refused because its token expired or the server lost it (a restart): authenticate again. */
export function isInvalidToken(err: unknown): boolean {
  return (
    err instanceof EtcdRequestError &&
    (err.code === GRPC_UNAUTHENTICATED || /invalid auth token/i.test(err.message))
  );
}

/** Keys and values as etcd's gateway takes them: base64 of the UTF-8 bytes. */
export function encode(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** A key or value from the gateway; it leaves out empty fields, so a missing one is the empty string. */
export function decode(base64: string | undefined): string {
  return base64 === undefined ? '' : Buffer.from(base64, 'base64').toString('utf8');
}

/** Calls `onLine` for each newline-delimited JSON object of the stream, then `onEnd` once it ends. */
export function readLines(
  stream: EtcdStream,
  onLine: (line: string) => void,
  onEnd: (err?: Error) => void,
): void {
  let pending = '';
  let ended = false;
  const finish = (err?: Error): void => {
    if (ended) return;
    ended = true;
    onEnd(err);
  };
  stream.response.setEncoding('utf8');
  stream.response.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== '') onLine(line);
      newline = pending.indexOf('\n');
    }
  });
  stream.response.once('error', (err) => finish(err));
  stream.response.once('close', () => finish());
}
