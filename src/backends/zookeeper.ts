import { setAll } from '../kv-pairs.js';
import { BackendError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { resolveSrvNodes } from './srv-nodes.js';
import { SharedWatches } from './shared-watches.js';
import type { BackendOptions, KVPairs, PrefixWatch, RequestOptions, StoreClient } from './store-client.js';
import { untilAborted } from './watch-event-buffer.js';
import { openSession, type ZkSessionOptions } from './zookeeper-session.js';
import { readValues, zkPath } from './zookeeper-tree.js';
import { ZkRecursiveCache } from './zookeeper-recursive-cache.js';
import { ZkTreeCache, type LiveSession } from './zookeeper-tree-cache.js';
import { ZkEventHub } from './zookeeper-watch.js';

const DEFAULT_NODE = '127.0.0.1:2181';
const DEFAULT_PORT = 2181;

/** Knobs no command-line flag sets (tests shorten the session timeout to provoke expiry). */
export interface ZookeeperTuning {
  sessionTimeoutMs?: number;
  /**
   * false: watch with one-shot watches on every node (ZkTreeCache), as for a server older than 3.6, even
   * when the server has persistent watches. Tests use it to exercise that path on a current server.
   */
  persistentWatches?: boolean;
  /** false: no multiRead batches (ZkSessionOptions.batchedReads). */
  batchedReads?: boolean;
}

/**
 * The ZooKeeper backend: values are leaf znodes, read over one session shared by every call. The session is
 * opened (and the ensemble's reachability checked) before this resolves; if it later expires, the next call
 * opens a new one.
 */
export async function createClient(
  options: BackendOptions,
  logger: Logger,
  tuning: ZookeeperTuning = {},
): Promise<StoreClient> {
  const nodes = await resolveSrvNodes(options);
  const sessionOptions: ZkSessionOptions = {
    endpoints: zookeeperEndpoints(nodes),
    connectTimeoutMs: options.connectTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
  };
  if (tuning.sessionTimeoutMs !== undefined) sessionOptions.sessionTimeoutMs = tuning.sessionTimeoutMs;
  if (tuning.batchedReads === false) sessionOptions.batchedReads = false;
  if (options.username) sessionOptions.username = options.username;
  if (options.password !== undefined) sessionOptions.password = options.password;
  const client = new ZookeeperClient(
    sessionOptions,
    logger,
    tuning.persistentWatches === false ? false : undefined,
  );
  await client.connect();
  return client;
}

/** What node-zookeeper-client requires of Node.js (see BackendModule.loadNodeModules). */
export function loadNodeModules(): Promise<unknown> {
  return Promise.all([import('node:net'), import('node:assert')]);
}

/** `host` or `host:port` (confd's -node values) as the library wants them; a bare host gets port 2181. */
export function zookeeperEndpoints(nodes: readonly string[]): string[] {
  const list = nodes.map((node) => node.trim()).filter((node) => node !== '');
  if (list.length === 0) return [DEFAULT_NODE];
  return list.map((node) => (/:\d+$/.test(node) ? node : `${node}:${DEFAULT_PORT}`));
}

class ZookeeperClient implements StoreClient {
  private current: Promise<LiveSession> | undefined;
  /** One tree cache per watched prefix, released with its last holder. */
  private readonly caches: SharedWatches<ZkTreeCache>;
  private closed = false;
  /** Aborted by close(): a session still connecting gives up at once instead of at its connect timeout. */
  private readonly closing = new AbortController();
  /** Whether the ensemble answers addWatch, found out before the first watch is armed. */
  private mode: Promise<void> | undefined;

  constructor(
    private readonly options: ZkSessionOptions,
    private readonly logger: Logger,
    /** One persistent recursive watch per prefix (3.6+), or one-shot watches on every node. */
    private recursive: boolean | undefined,
  ) {
    const open = (): Promise<LiveSession> => this.live();
    this.caches = new SharedWatches(
      (root) =>
        this.recursive === false
          ? new ZkTreeCache(root, open, logger)
          : new ZkRecursiveCache(root, open, logger, () => this.unsupported(root)),
      { backend: 'zookeeper', endpoints: options.endpoints },
    );
  }

  /**
   * Takes the version the session asked its server (`srvr`) once: a server older than 3.6 would answer addWatch by
   * closing the session. When it does not say (the command not allowed there), addWatch is tried, and a
   * refusal switches this client to one-shot watches (see unsupported).
   */
  private watchMode(): Promise<void> {
    if (this.recursive !== undefined) return Promise.resolve();
    this.mode ??= this.live()
      .then(async ({ session }) => {
        const server = session.server;
        const version = await session.serverVersion();
        if (version) this.recursive = version[0] > 3 || (version[0] === 3 && version[1] >= 6);
        this.logger.debug(
          `zookeeper: server ${server ?? '?'} is version ${version ? version.join('.') : 'unknown'}: ` +
            (this.recursive === false ? 'one watch per node' : 'one persistent recursive watch per prefix'),
        );
      })
      .finally(() => {
        this.mode = undefined;
      });
    return this.mode;
  }

  private unsupported(root: string): BackendError {
    this.recursive = false;
    this.logger.warn(
      'zookeeper: the server does not support persistent watches (addWatch, ZooKeeper 3.6+): ' +
        'watching with one watch per node from now on',
    );
    return new BackendError(
      `zookeeper: the server refused a persistent watch on ${root} (older than ZooKeeper 3.6)`,
      'zookeeper',
      this.options.endpoints,
    );
  }

  async connect(): Promise<void> {
    await this.live();
  }

  private live(): Promise<LiveSession> {
    if (this.closed) return Promise.reject(this.closedError());
    const current = this.current;
    if (current) {
      return current.then((live) => (live.session.alive ? live : this.reopen(current)));
    }
    return this.reopen(undefined);
  }

  /** One reconnect at a time: concurrent callers share the attempt. */
  private reopen(stale: Promise<LiveSession> | undefined): Promise<LiveSession> {
    if (this.current !== stale) return this.live();
    if (stale) this.logger.info('zookeeper: session lost, opening a new one');
    const next = openSession(this.options, this.logger, this.closing.signal).then((session) => ({
      session,
      hub: new ZkEventHub(),
    }));
    this.current = next;
    // A failed attempt must not be cached: the next call tries again.
    next.catch(() => {
      if (this.current === next) this.current = undefined;
    });
    return next;
  }

  /**
   * Keys under a watched prefix are answered from its tree cache when the cache is in step with the store
   * (it is kept current by watches, so this saves a subtree walk per render); the rest are read.
   */
  async getValues(keys: readonly string[], options: RequestOptions = {}): Promise<KVPairs> {
    if (this.closed) throw this.closedError();
    const { signal } = options;
    const values: KVPairs = new Map();
    const toRead: string[] = [];
    for (const key of keys) {
      const path = zkPath(key);
      const cached = options.fresh ? undefined : this.cachedValues(path);
      if (cached) setAll(values, cached);
      else toRead.push(path);
    }
    if (toRead.length > 0) {
      // Every request carries the session's deadline; `signal` only stops the wait for it.
      const read = this.live().then(({ session }) => readValues(session, toRead));
      setAll(values, await (signal ? untilAborted(read, signal) : read));
    }
    return values;
  }

  /** exists("/") on the live session: one round trip, no data. */
  async ping(options: RequestOptions = {}): Promise<void> {
    if (this.closed) throw this.closedError();
    const check = this.live().then(({ session }) => session.exists('/'));
    await (options.signal ? untilAborted(check, options.signal) : check);
  }

  /** All holders of one prefix share its tree cache, and so its watch (or watches, one per node). */
  async watch(prefix: string, options: RequestOptions = {}): Promise<PrefixWatch> {
    if (this.closed) throw this.closedError();
    const { signal } = options;
    await (signal ? untilAborted(this.watchMode(), signal) : this.watchMode());
    return this.caches.acquire(zkPath(prefix), signal);
  }

  private cachedValues(path: string): KVPairs | undefined {
    for (const cache of this.caches.sources()) {
      const values = cache.valuesUnder(path);
      if (values) return values;
    }
    return undefined;
  }

  private closedError(): BackendError {
    return new BackendError('zookeeper: client closed', 'zookeeper', this.options.endpoints);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    await this.caches.closeAll(this.closedError());
    const current = this.current;
    this.current = undefined;
    const live = await current?.catch(() => undefined);
    await live?.session.close();
  }
}
