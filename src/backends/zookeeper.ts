import { BackendError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { resolveSrvNodes } from './srv-nodes.js';
import type { BackendOptions, KVPairs, StoreClient, WatchOptions } from './store-client.js';
import { openSession, type ZkSession, type ZkSessionOptions } from './zookeeper-session.js';
import { readValues } from './zookeeper-tree.js';
import { waitForChange, ZkEventHub } from './zookeeper-watch.js';

const DEFAULT_NODE = '127.0.0.1:2181';
const DEFAULT_PORT = 2181;

/**
 * The ZooKeeper backend: values are leaf znodes, read over one session shared by every call. The session is
 * opened (and the ensemble's reachability checked) before this resolves; if it later expires, the next call
 * opens a new one.
 */
export async function createClient(options: BackendOptions, logger: Logger): Promise<StoreClient> {
  const nodes = await resolveSrvNodes(options);
  const sessionOptions: ZkSessionOptions = {
    endpoints: zookeeperEndpoints(nodes),
    connectTimeoutMs: options.connectTimeoutMs,
  };
  if (options.username) sessionOptions.username = options.username;
  if (options.password !== undefined) sessionOptions.password = options.password;
  const client = new ZookeeperClient(sessionOptions, logger);
  await client.connect();
  return client;
}

/** `host` or `host:port` (confd's -node values) as the library wants them; a bare host gets port 2181. */
export function zookeeperEndpoints(nodes: readonly string[]): string[] {
  const list = nodes.map((node) => node.trim()).filter((node) => node !== '');
  if (list.length === 0) return [DEFAULT_NODE];
  return list.map((node) => (/:\d+$/.test(node) ? node : `${node}:${DEFAULT_PORT}`));
}

interface LiveSession {
  session: ZkSession;
  hub: ZkEventHub;
}

class ZookeeperClient implements StoreClient {
  private current: Promise<LiveSession> | undefined;
  private closed = false;

  constructor(
    private readonly options: ZkSessionOptions,
    private readonly logger: Logger,
  ) {}

  async connect(): Promise<void> {
    await this.live();
  }

  private live(): Promise<LiveSession> {
    if (this.closed) {
      return Promise.reject(
        new BackendError('zookeeper: client closed', 'zookeeper', this.options.endpoints),
      );
    }
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
    const next = openSession(this.options, this.logger).then((session) => ({
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

  async getValues(keys: readonly string[]): Promise<KVPairs> {
    const { session } = await this.live();
    return readValues(session, keys);
  }

  async watchPrefix(prefix: string, _keys: readonly string[], options: WatchOptions): Promise<number> {
    const { session, hub } = await this.live();
    return waitForChange(session, hub, prefix, options.waitIndex, options.signal);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const current = this.current;
    this.current = undefined;
    const live = await current?.catch(() => undefined);
    await live?.session.close();
  }
}
