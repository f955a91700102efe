import { setAll } from '../kv-pairs.js';
import { BackendError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { ConsulAgents, type AnswerError, type ConsulAgent } from './consul-agents.js';
import { ConsulHttp } from './consul-http.js';
import { readValues, toConsulKey, type ConsulEntry, type ConsulKvReader } from './consul-kv.js';
import { ConsulPrefixWatch, type ConsulListing } from './consul-watch.js';
import { resolveSrvNodes } from './srv-nodes.js';
import { SharedWatches } from './shared-watches.js';
import type { HttpTransport } from './http-request.js';
import { abortReason } from './watch-event-buffer.js';
import type { BackendOptions, KVPairs, PrefixWatch, RequestOptions, StoreClient } from './store-client.js';
import { hasTlsFiles, loadTlsFiles, type TlsFiles } from './tls-files.js';

const BACKEND = 'consul';
const DEFAULT_NODE = '127.0.0.1:8500';
const DEFAULT_PORT = 8500;
/** How long one blocking query waits server-side before answering with an unchanged index. */
const WATCH_WAIT_S = 300;
/**
 * Concurrent reads per agent. Consul resets connections beyond http_max_conns_per_client (200 by default)
 * from one address, so a burst of reads must queue here instead of opening a socket each.
 */
const MAX_READ_SOCKETS = 16;

/** Knobs no command-line flag sets (tests shorten the blocking-query wait to see it run out). */
export interface ConsulTuning {
  /** Server-side wait of one blocking query, in seconds (default 300, Consul's own maximum is 600). */
  watchWaitS?: number;
}

/**
 * The Consul KV backend. Connects to the first -node agent that answers (checked before this resolves) and
 * sends the ACL token from -auth-token or CONSUL_HTTP_TOKEN with every request.
 */
export async function createClient(
  options: BackendOptions,
  logger: Logger,
  tuning: ConsulTuning = {},
): Promise<ConsulClient> {
  const [nodes, tls] = await Promise.all([resolveSrvNodes(options), loadTlsFiles(options, BACKEND)]);
  const token = nonEmpty(options.authToken) ?? nonEmpty(process.env.CONSUL_HTTP_TOKEN);
  const headers: Record<string, string> = {};
  if (token) headers['x-consul-token'] = token;
  if (options.basicAuth) {
    const credentials = `${options.username ?? ''}:${options.password ?? ''}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const scheme = options.scheme === 'https' || hasTlsFiles(tls) ? 'https' : 'http';
  const endpoints = consulEndpoints(nodes);
  const transport = await transports(
    endpoints.map((endpoint) => baseUrl(endpoint, scheme)),
    tls,
  );
  const agents = endpoints.map((endpoint): ConsulAgent => {
    const url = baseUrl(endpoint, scheme);
    const make = (maxSockets: number) => new ConsulHttp(url, transport(url, maxSockets), headers);
    return { endpoint, api: make(MAX_READ_SOCKETS), watchApi: make(Infinity) };
  });
  const pool = new ConsulAgents(agents, options.connectTimeoutMs, logger);
  try {
    await pool.select();
  } catch (err) {
    pool.destroy();
    throw err;
  }
  return new ConsulClient(pool, options.requestTimeoutMs, tuning.watchWaitS ?? WATCH_WAIT_S, logger);
}

/** -node values; a bare host gets port 8500. A value may carry its own scheme (https://host:8501). */
export function consulEndpoints(nodes: readonly string[]): string[] {
  const list = nodes.map((node) => node.trim()).filter((node) => node !== '');
  if (list.length === 0) return [DEFAULT_NODE];
  return list.map((node) => (/:\d+$/.test(node) ? node : `${node}:${DEFAULT_PORT}`));
}

function baseUrl(endpoint: string, scheme: 'http' | 'https'): string {
  const explicit = /^(https?):\/\/(.*?)\/*$/i.exec(endpoint);
  return explicit ? `${explicit[1]?.toLowerCase()}://${explicit[2]}` : `${scheme}://${endpoint}`;
}

/**
 * Makes the transport of one agent URL with its own keep-alive pool: node:http, or node:https (tens of ms
 * more to load: TLS) only when an agent needs it.
 */
async function transports(
  urls: readonly string[],
  tls: TlsFiles,
): Promise<(url: string, maxSockets: number) => HttpTransport> {
  const http = urls.some((url) => url.startsWith('http:')) ? await import('node:http') : undefined;
  const https = urls.some((url) => url.startsWith('https:')) ? await import('node:https') : undefined;
  return (url, maxSockets) => {
    if (url.startsWith('https:') && https) {
      const agent = new https.Agent({ keepAlive: true, maxSockets, ...tlsClientOptions(tls) });
      return { agent, request: https.request };
    }
    if (!http) throw new Error(`consul: no transport for ${url}`);
    return { agent: new http.Agent({ keepAlive: true, maxSockets }), request: http.request };
  };
}

function tlsClientOptions(tls: TlsFiles): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (tls.ca) out.ca = tls.ca;
  if (tls.cert) out.cert = tls.cert;
  if (tls.key) out.key = tls.key;
  if (tls.insecure) out.rejectUnauthorized = false;
  return out;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

interface HttpError {
  statusCode?: number;
  message?: string;
}

/** A StoreClient that is also the ConsulKvReader its getValues reads through (one recursive read per key). */
export class ConsulClient implements StoreClient, ConsulKvReader {
  private closed = false;
  /** One blocking-query loop per watched prefix, kept until close. */
  private readonly watches: SharedWatches<ConsulPrefixWatch>;

  constructor(
    private readonly agents: ConsulAgents,
    private readonly readTimeoutMs: number,
    private readonly watchWaitS: number,
    private readonly logger: Logger,
  ) {
    this.watches = new SharedWatches(
      (root) => {
        const consulKey = toConsulKey(root);
        return new ConsulPrefixWatch(root, (index, signal) => this.listing(consulKey, index, signal), logger);
      },
      { backend: BACKEND, endpoints: agents.endpoints },
    );
  }

  /**
   * Keys under a watched prefix are answered from its blocking query's latest answer (the whole prefix,
   * see ConsulPrefixWatch.valuesUnder), as etcd's and ZooKeeper's watches keep theirs; the rest are read.
   * A key with nothing under it in the answer is read all the same: with ACLs the listing silently leaves
   * out what the token may not read, and only a read of its own tells "denied" from "absent" (see list).
   */
  async getValues(keys: readonly string[], options: RequestOptions = {}): Promise<KVPairs> {
    this.assertOpen();
    const copied: KVPairs = new Map();
    const toRead = keys.filter((key) => {
      const values = options.fresh ? undefined : this.copiedValues(key);
      const answered = values !== undefined && values.size > 0;
      if (answered) setAll(copied, values);
      return !answered;
    });
    if (toRead.length === 0) return copied;
    return setAll(await readValues(this, toRead, options.signal), copied);
  }

  private copiedValues(key: string): KVPairs | undefined {
    for (const watch of this.watches.sources()) {
      const values = watch.valuesUnder(key);
      if (values) return values;
    }
    return undefined;
  }

  /**
   * A recursive read. With ACLs, Consul silently drops the entries a token may not read, so a denied prefix
   * looks like a missing one (404); a plain read of the key itself then tells "denied" (403) from "absent".
   */
  async list(consulKey: string, signal?: AbortSignal): Promise<ConsulEntry[]> {
    const answerError = this.answerError(consulKey, signal);
    const call = { timeoutMs: this.readTimeoutMs, signal };
    const { entries } = await this.agents.run(
      ({ api }) => api.kv(consulKey, { recurse: true }, call),
      answerError,
    );
    if (entries) return entries;
    if (consulKey !== '') await this.agents.run(({ api }) => api.kv(consulKey, {}, call), answerError);
    return [];
  }

  /** GET /v1/status/leader: answered by the agent, no ACL token needed. */
  async ping(options: RequestOptions = {}): Promise<void> {
    this.assertOpen();
    const call = { timeoutMs: this.readTimeoutMs, signal: options.signal };
    await this.agents.run(({ api }) => api.leader(call), this.answerError('', options.signal));
  }

  /** All holders of one prefix share its blocking-query loop (see ConsulPrefixWatch). */
  async watch(prefix: string, options: RequestOptions = {}): Promise<PrefixWatch> {
    // Async, so a closed client rejects instead of throwing at the caller.
    this.assertOpen();
    return this.watches.acquire(prefix, options.signal);
  }

  /**
   * A recursive read with its X-Consul-Index; with an index above 0, a blocking query on it. Blocking
   * queries go over their own connection pool so that plain reads never queue behind them.
   */
  private async listing(consulKey: string, index: number, signal: AbortSignal): Promise<ConsulListing> {
    const blocking = index > 0 ? { index, waitS: this.watchWaitS } : {};
    // Consul adds up to wait/16 of jitter before answering.
    const timeoutMs =
      index > 0 ? (this.watchWaitS * 1000 * 17) / 16 + this.readTimeoutMs : this.readTimeoutMs;
    const answer = await this.agents.run(
      ({ watchApi }) => watchApi.kv(consulKey, { recurse: true, ...blocking }, { timeoutMs, signal }),
      this.answerError(consulKey, signal),
    );
    return { index: answer.index, entries: answer.entries ?? [] };
  }

  /** An HTTP error answer (or a cancel) while reading `consulKey`, as a BackendError naming the agent. */
  private answerError(consulKey: string, signal?: AbortSignal): AnswerError {
    return (err, { endpoint }) => {
      if (signal?.aborted) return abortReason(signal);
      const { statusCode, message } = err as HttpError;
      const where = `/${consulKey} at ${endpoint}`;
      const endpoints = this.agents.endpoints;
      const fail = (text: string): BackendError =>
        new BackendError(`${BACKEND}: ${text}`, BACKEND, endpoints, { cause: err });
      if (statusCode === 403) {
        return fail(
          `permission denied (ACL) reading ${where}: ${message ?? ''}; check -auth-token or CONSUL_HTTP_TOKEN`,
        );
      }
      if (statusCode === 401) return fail(`unauthorized reading ${where}: check -basic-auth credentials`);
      const status = statusCode ? `HTTP ${statusCode}: ` : '';
      return fail(`reading ${where} failed: ${status}${message ?? errorMessage(err)}`);
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new BackendError(`${BACKEND}: client closed`, BACKEND, this.agents.endpoints);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closed = new BackendError(`${BACKEND}: client closed`, BACKEND, this.agents.endpoints);
    await this.watches.closeAll(closed);
    this.agents.destroy();
  }
}
