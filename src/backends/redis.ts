import type { Redis, RedisOptions } from 'ioredis';
import { collectGarbage } from '../collect-garbage.js';
import { BackendError, errorMessage } from '../errors.js';
import { cleanKey } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { RedisKeyMapper } from './redis-keys.js';
import { readTrees } from './redis-read.js';
import { parseRedisNodes, type RedisNode } from './redis-nodes.js';
import { resolveSrvNodes } from './srv-nodes.js';
import { RedisWatchHub } from './redis-watch.js';
import type { BackendOptions, KVPairs, PrefixWatch, RequestOptions, StoreClient } from './store-client.js';
import { untilAborted } from './watch-event-buffer.js';

type RedisConstructor = typeof Redis;

interface RedisSettings {
  backend: string;
  nodes: RedisNode[];
  username?: string;
  password?: string;
  timeoutMs: number;
  requestTimeoutMs: number;
  pollIntervalMs: number;
}

/**
 * Redis backend. Strings are values, each field of a hash is a child key, and everything under a key
 * (found with SCAN, never KEYS) belongs to it, as in confd; nodes are tried in order. Connects (and
 * authenticates, and selects the database) before resolving, so a store that cannot be used is one
 * BackendError at startup, not one per resource.
 */
export async function createClient(
  options: BackendOptions,
  logger: Logger,
  tuning: { pollIntervalMs?: number } = {},
): Promise<RedisStoreClient> {
  const nodes = parseRedisNodes(await resolveSrvNodes(options), options.backend);
  // confd passed -client-key to Redis as its password; keep accepting that when -password is empty.
  const password = options.password || options.clientKey || undefined;
  const settings: RedisSettings = {
    backend: options.backend,
    nodes,
    timeoutMs: options.connectTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    pollIntervalMs: tuning.pollIntervalMs ?? options.watchPollMs,
    ...(password ? { password } : {}),
    ...(password && options.username ? { username: options.username } : {}),
  };
  const RedisClass = await loadIoredis();
  logger.debug(
    `${options.backend}: nodes ${nodes.map((n) => n.node).join(', ')}, separator ${JSON.stringify(options.separator || '/')}`,
  );
  const client = new RedisStoreClient(RedisClass, settings, new RedisKeyMapper(options.separator), logger);
  try {
    await client.open();
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}

let ioredis: Promise<RedisConstructor> | undefined;

/**
 * ioredis's client class, loaded once per process. ioredis adds a method per Redis command (~600) to its
 * prototypes one property at a time, and V8 copies the property table each time: ~5.4 MiB of old-space
 * garbage, 3 MiB of a 10,000-key run's peak, collected right after the load (see collect-garbage.ts). A
 * daemon's reconnects create clients again; the load and its collection are not repeated.
 */
function loadIoredis(): Promise<RedisConstructor> {
  ioredis ??= import('ioredis').then(({ Redis }) => {
    collectGarbage();
    return Redis;
  });
  return ioredis;
}

/** What ioredis requires of Node.js (see BackendModule.loadNodeModules). */
export function loadNodeModules(): Promise<unknown> {
  return Promise.all([
    import('node:net'),
    import('node:tls'),
    import('node:dns'),
    import('node:crypto'),
    import('node:tty'),
    import('node:assert'),
    import('node:diagnostics_channel'),
  ]);
}

export class RedisStoreClient implements StoreClient {
  private connection: Redis | undefined;
  private connecting: Promise<Redis> | undefined;
  private closed = false;
  private readonly watches: RedisWatchHub;

  constructor(
    private readonly RedisClass: RedisConstructor,
    private readonly settings: RedisSettings,
    private readonly keys: RedisKeyMapper,
    private readonly logger: Logger,
  ) {
    this.watches = new RedisWatchHub({
      backend: settings.backend,
      endpoints: this.endpoints,
      keys,
      logger,
      pollIntervalMs: settings.pollIntervalMs,
      openConnection: () => this.openConnection(),
      notifyKeyspaceEvents: () => this.notifyKeyspaceEvents(),
      getValues: (k) => this.getValues(k),
    });
  }

  /** Connects to the first node that accepts us; createClient calls it, later calls reconnect on their own. */
  async open(): Promise<void> {
    await this.connect();
  }

  private get endpoints(): string[] {
    return this.settings.nodes.map((n) => n.node);
  }

  async getValues(keys: readonly string[], options: RequestOptions = {}): Promise<KVPairs> {
    const bases = uniqueKeys(keys);
    const conn = await this.connect();
    const { signal } = options;
    try {
      // Each command carries the command timeout; `signal` only stops the wait.
      const reading = readTrees(conn, this.keys, bases);
      return await (signal ? untilAborted(reading, signal) : reading);
    } catch (err) {
      if (signal?.aborted) throw err;
      // A dropped connection is re-established by the next call, as confd does.
      this.drop(conn);
      throw this.backendError(
        err,
        `reading ${bases.slice(0, 3).join(', ')}${bases.length > 3 ? ' ...' : ''}`,
      );
    }
  }

  /**
   * Keyspace notifications when the server sends them, polling every -watch-poll otherwise; one watch per
   * prefix either way (see RedisWatchHub). The index is a counter of this client's, not a Redis value.
   */
  watch(prefix: string, options: RequestOptions = {}): Promise<PrefixWatch> {
    return this.watches.watch(prefix, options.signal);
  }

  async ping(options: RequestOptions = {}): Promise<void> {
    const conn = await this.connect();
    try {
      const pong = conn.ping();
      await (options.signal ? untilAborted(pong, options.signal) : pong);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      this.drop(conn);
      throw this.backendError(err, 'checking the store');
    }
  }

  /** The server's notify-keyspace-events setting, or the reason it would not tell (CONFIG disabled or denied). */
  private async notifyKeyspaceEvents(): Promise<{ flags: string } | { refused: string }> {
    const conn = await this.connect();
    try {
      const reply = await conn.config('GET', 'notify-keyspace-events');
      return { flags: reply[1] ?? '' };
    } catch (err) {
      if (err instanceof Error && err.name === 'ReplyError') return { refused: err.message };
      this.drop(conn);
      throw this.backendError(err, 'reading notify-keyspace-events');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.watches.close();
    const pending = this.connecting;
    this.connecting = undefined;
    if (this.connection) this.drop(this.connection);
    if (pending) await pending.then((c) => this.drop(c)).catch(() => undefined);
  }

  /** The live connection, or a new one to the first node (in -node order) that accepts us. */
  private async connect(): Promise<Redis> {
    if (this.closed)
      throw new BackendError(
        `${this.settings.backend}: client is closed`,
        this.settings.backend,
        this.endpoints,
      );
    if (this.connection?.status === 'ready') return this.connection;
    if (this.connection) this.drop(this.connection);
    this.connecting ??= this.connectFirst().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connectFirst(): Promise<Redis> {
    const conn = await this.openConnection();
    this.connection = conn;
    return conn;
  }

  /** A new connection to the first node (in -node order) that accepts one. */
  private async openConnection(): Promise<Redis> {
    const failures: string[] = [];
    let lastError: unknown;
    for (const node of this.settings.nodes) {
      this.logger.debug(`${this.settings.backend}: connecting to ${node.node}`);
      let conn: Redis;
      try {
        conn = await this.connectTo(node);
      } catch (err) {
        // Wrong credentials or database are the same on every node: trying the next one would only hide them.
        if (err instanceof BackendError || isAuthError(err)) {
          throw this.backendError(err, `connecting to ${node.node}`);
        }
        failures.push(`${node.node}: ${errorMessage(err)}`);
        lastError = err;
        continue;
      }
      if (this.closed) {
        disconnect(conn);
        throw new BackendError(
          `${this.settings.backend}: client is closed`,
          this.settings.backend,
          this.endpoints,
        );
      }
      return conn;
    }
    throw new BackendError(
      `${this.settings.backend}: cannot connect to ${this.endpoints.join(', ')} (${failures.join('; ')})`,
      this.settings.backend,
      this.endpoints,
      { cause: lastError },
    );
  }

  private async connectTo(node: RedisNode): Promise<Redis> {
    const { timeoutMs, username, password } = this.settings;
    const options: RedisOptions = {
      // No `db` here: ioredis would send SELECT while connecting and, if it failed, only emit 'error' and
      // stay on database 0, silently reading the wrong data. The database is selected below instead.
      ...('path' in node ? { path: node.path } : { host: node.host, port: node.port }),
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: this.settings.requestTimeoutMs,
      // One attempt per node and no offline queueing: failures surface as errors, never as a hang.
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      // ioredis waits this long for the server to close the socket after QUIT; one that never answers
      // would keep the process alive that long after a failure. Nothing is in flight when we disconnect.
      disconnectTimeout: 0,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
    };
    const conn = new this.RedisClass(options);
    // connect() itself often rejects with a bare "Connection is closed."; the cause arrives as an event.
    let cause: Error | undefined;
    conn.on('error', (err: Error) => {
      cause ??= err;
      this.logger.debug(`${this.settings.backend}: ${node.node}: ${err.message}`);
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        conn.connect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      // The ready check may pass without credentials; a PING proves the connection may run commands.
      await conn.ping();
      if (node.db !== 0) {
        try {
          await conn.select(node.db);
        } catch (err) {
          throw this.selectError(err, node);
        }
      }
      // Read by the watch for the keyspace channel of the database (__keyspace@<db>__).
      conn.options.db = node.db;
      return conn;
    } catch (err) {
      disconnect(conn);
      throw err instanceof BackendError ? err : (cause ?? err);
    } finally {
      clearTimeout(timer);
    }
  }

  private drop(conn: Redis): void {
    if (this.connection === conn) this.connection = undefined;
    disconnect(conn);
  }

  /** SELECT refused: the database is out of range (redis.conf `databases`) or the user may not SELECT. */
  private selectError(err: unknown, node: RedisNode): BackendError {
    const { backend } = this.settings;
    const message = errorMessage(err);
    const denied = /NOPERM/i.test(message)
      ? `permission denied for user ${this.settings.username ?? 'default'}: `
      : '';
    return new BackendError(
      `${backend}: cannot select database ${node.db} on ${node.node}: ${denied}${message}`,
      backend,
      this.endpoints,
      { cause: err },
    );
  }

  private backendError(err: unknown, doing: string): BackendError {
    if (err instanceof BackendError) return err;
    const { backend } = this.settings;
    const at = this.endpoints.join(', ');
    const message = errorMessage(err);
    const user = this.settings.username ?? 'default';
    let text: string;
    if (/WRONGPASS|invalid password|invalid username-password/i.test(message)) {
      text = `${backend}: authentication failed for user ${user} at ${at}`;
    } else if (/NOAUTH/i.test(message)) {
      text = `${backend}: authentication required at ${at}: set -password`;
    } else if (/NOPERM/i.test(message)) {
      text = `${backend}: permission denied for user ${user} ${doing} at ${at}: ${message}`;
    } else {
      text = `${backend}: error ${doing} at ${at}: ${message}`;
    }
    return new BackendError(text, backend, this.endpoints, { cause: err });
  }
}

/**
 * ioredis arms a timer on every disconnect() that only the socket's "close" event clears; on a socket that
 * already closed it would hold the process open for seconds, so ended connections are left alone.
 */
function disconnect(conn: Redis): void {
  if (conn.status !== 'end') conn.disconnect();
}

function isAuthError(err: unknown): boolean {
  return /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username-password/i.test(errorMessage(err));
}

function uniqueKeys(keys: readonly string[]): string[] {
  return [...new Set(keys.map(cleanKey))].sort();
}
