import type {
  Client as ZkLibClient,
  Event as ZkLibEvent,
  Exception as ZkLibException,
  Stat as ZkLibStat,
} from 'node-zookeeper-client';
import { BackendError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { probeEndpoints } from './zookeeper-probe.js';

/** The parts of a znode's Stat the walker and the watch use; zxids as plain numbers. */
export interface ZkStat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  numChildren: number;
}

/** A watch notification: what happened (NODE_CREATED, NODE_DATA_CHANGED, ...) and to which node. */
export interface ZkEvent {
  type: number;
  name: string;
  path: string;
}

export type ZkWatcher = (event: ZkEvent) => void;

/**
 * Promise-shaped reads on one ZooKeeper session. A node that does not exist (NO_NODE) yields undefined, never
 * an error; every other failure rejects with a BackendError. Passing a watcher sets a one-shot watch.
 */
export interface ZkNodeReader {
  getChildren(path: string, watcher?: ZkWatcher): Promise<{ children: string[]; stat: ZkStat } | undefined>;
  getData(path: string, watcher?: ZkWatcher): Promise<{ data: string; stat: ZkStat } | undefined>;
  exists(path: string, watcher?: ZkWatcher): Promise<ZkStat | undefined>;
}

export interface ZkSession extends ZkNodeReader {
  /** False once the session expired, stayed disconnected past the connect timeout, or was closed. */
  readonly alive: boolean;
  /** Called once when the session dies; returns an unsubscribe function. */
  onLost(listener: (err: BackendError) => void): () => void;
  close(): Promise<void>;
}

export interface ZkSessionOptions {
  endpoints: string[];
  username?: string;
  password?: string;
  connectTimeoutMs: number;
  /** Deadline of one request; the library has none, so a silent server would hold a read forever. */
  requestTimeoutMs?: number;
  /** Session timeout asked of the server (which bounds it by its tick time); the library's default is 30 s. */
  sessionTimeoutMs?: number;
}

const BACKEND = 'zookeeper';

/**
 * Opens a session on the ensemble (all endpoints in one connection string; the library picks among them) and
 * waits until it is connected. The library retries forever on its own, so the connect timeout is enforced
 * here, and a failed attempt closes the client so no socket or timer keeps the process alive.
 */
export async function openSession(options: ZkSessionOptions, logger: Logger): Promise<ZkSession> {
  const zk = (await import('node-zookeeper-client')).default;
  const client = zk.createClient(options.endpoints.join(','), {
    retries: 0,
    ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeout: options.sessionTimeoutMs }),
  });
  const withAuth = options.username !== undefined && options.username !== '';
  if (withAuth) {
    // Digest auth never fails at connect time: a wrong password only shows up as NOAUTH on protected nodes.
    client.addAuthInfo('digest', Buffer.from(`${options.username}:${options.password ?? ''}`));
  }
  const session = new Session(client, zk.Exception, options, withAuth, logger);
  await session.connect();
  return session;
}

type ExceptionCodes = typeof ZkLibException;

class Session implements ZkSession {
  private lost: BackendError | undefined;
  private readonly pending = new Set<(err: BackendError) => void>();
  private readonly lostListeners = new Set<(err: BackendError) => void>();
  private disconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly client: ZkLibClient,
    private readonly codes: ExceptionCodes,
    private readonly options: ZkSessionOptions,
    private readonly withAuth: boolean,
    private readonly logger: Logger,
  ) {}

  get alive(): boolean {
    return this.lost === undefined;
  }

  connect(): Promise<void> {
    const { endpoints, connectTimeoutMs } = this.options;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        this.client.removeListener('connected', onConnected);
        this.client.removeListener('authenticationFailed', onAuthFailed);
        return true;
      };
      const onConnected = (): void => {
        if (!settle()) return;
        this.watchConnection();
        this.logger.debug(`zookeeper: connected to ${endpoints.join(',')}`);
        resolve();
      };
      const onAuthFailed = (): void => {
        if (!settle()) return;
        const err = this.error('authentication failed');
        this.markLost(err);
        reject(err);
      };
      const timer = setTimeout(() => {
        if (!settle()) return;
        // Stop the library's endless retries first; then find out why for the message.
        this.shutdown();
        void probeEndpoints(endpoints, Math.min(1000, connectTimeoutMs)).then((detail) => {
          const err = this.error(
            `cannot connect to ${endpoints.join(',')} within ${connectTimeoutMs} ms (${detail})`,
          );
          this.markLost(err);
          reject(err);
        });
      }, connectTimeoutMs);
      this.client.once('connected', onConnected);
      this.client.once('authenticationFailed', onAuthFailed);
      this.client.connect();
    });
  }

  /**
   * After the first connect the library reconnects by itself, keeping the session and its watches. We only
   * give up when the server says the session expired or no server took us back within the connect timeout.
   */
  private watchConnection(): void {
    this.client.on('disconnected', () => {
      if (this.lost || this.disconnectTimer) return;
      this.logger.warn(`zookeeper: disconnected from ${this.options.endpoints.join(',')}, reconnecting`);
      this.disconnectTimer = setTimeout(() => {
        this.disconnectTimer = undefined;
        this.markLost(
          this.error(`connection lost and not re-established within ${this.options.connectTimeoutMs} ms`),
        );
      }, this.options.connectTimeoutMs);
    });
    this.client.on('connected', () => {
      clearTimeout(this.disconnectTimer);
      this.disconnectTimer = undefined;
    });
    this.client.on('expired', () => this.markLost(this.error('session expired')));
    this.client.on('authenticationFailed', () => this.markLost(this.error('authentication failed')));
  }

  onLost(listener: (err: BackendError) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  private markLost(err: BackendError): void {
    if (this.lost) return;
    this.lost = err;
    clearTimeout(this.disconnectTimer);
    for (const reject of this.pending) reject(err);
    this.pending.clear();
    for (const listener of this.lostListeners) listener(err);
    this.lostListeners.clear();
    this.shutdown();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    stopClient(this.client);
  }

  async close(): Promise<void> {
    this.markLost(this.error('client closed'));
    this.shutdown();
  }

  getChildren(path: string, watcher?: ZkWatcher): Promise<{ children: string[]; stat: ZkStat } | undefined> {
    return this.request(path, (done) => {
      const callback = (error: unknown, children: string[], stat: ZkLibStat): void =>
        done(error, () => ({ children, stat: toStat(stat) }));
      if (watcher) this.client.getChildren(path, watcher as (event: ZkLibEvent) => void, callback);
      else this.client.getChildren(path, callback);
    });
  }

  getData(path: string, watcher?: ZkWatcher): Promise<{ data: string; stat: ZkStat } | undefined> {
    return this.request(path, (done) => {
      const callback = (error: unknown, data: Buffer | null | undefined, stat: ZkLibStat): void =>
        done(error, () => ({ data: data ? data.toString('utf8') : '', stat: toStat(stat) }));
      if (watcher) this.client.getData(path, watcher as (event: ZkLibEvent) => void, callback);
      else this.client.getData(path, callback);
    });
  }

  exists(path: string, watcher?: ZkWatcher): Promise<ZkStat | undefined> {
    return this.request(path, (done) => {
      const callback = (error: unknown, stat: ZkLibStat | null | undefined): void =>
        done(error, () => (stat ? toStat(stat) : undefined));
      if (watcher) this.client.exists(path, watcher as (event: ZkLibEvent) => void, callback);
      else this.client.exists(path, callback);
    });
  }

  /**
   * Runs one library call. Requests queued while the connection is down would wait for a reconnect that may
   * never come, so every request also fails as soon as the session is declared lost.
   */
  private request<T>(
    path: string,
    issue: (done: (error: unknown, result: () => T | undefined) => void) => void,
  ): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      if (this.lost) {
        reject(this.lost);
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const fail = (err: BackendError): void => {
        clearTimeout(timer);
        this.pending.delete(fail);
        reject(err);
      };
      this.pending.add(fail);
      const timeoutMs = this.options.requestTimeoutMs;
      if (timeoutMs !== undefined) {
        // The library cannot cancel a request; its late answer finds the promise settled and is dropped.
        timer = setTimeout(
          () => fail(this.error(`no answer reading ${path} within ${timeoutMs} ms (server hanging?)`)),
          timeoutMs,
        );
      }
      const done = (error: unknown, result: () => T | undefined): void => {
        if (!this.pending.has(fail)) return;
        clearTimeout(timer);
        this.pending.delete(fail);
        if (!error) resolve(result());
        else if (codeOf(error) === this.codes.NO_NODE) resolve(undefined);
        else reject(this.requestError(path, error));
      };
      try {
        issue(done);
      } catch (err) {
        // The library validates paths synchronously.
        fail(this.error(`invalid path ${JSON.stringify(path)}: ${errorMessage(err)}`, err));
      }
    });
  }

  private requestError(path: string, error: unknown): BackendError {
    const code = codeOf(error);
    // The library hides which server of the ensemble it is talking to, so name them all.
    const where = `${path} at ${this.options.endpoints.join(',')}`;
    if (code === this.codes.NO_AUTH) {
      const hint = this.withAuth
        ? 'the node ACL does not grant read access to the digest credentials given (-username/-password)'
        : 'the node ACL requires authentication: set -username and -password for digest auth';
      return this.error(`not authorized to read ${where} (NOAUTH): ${hint}`, error);
    }
    if (code === this.codes.AUTH_FAILED) return this.error(`authentication failed reading ${where}`, error);
    if (code === this.codes.CONNECTION_LOSS) return this.error(`connection lost reading ${where}`, error);
    if (code === this.codes.SESSION_EXPIRED) return this.error(`session expired reading ${where}`, error);
    return this.error(`reading ${where} failed: ${errorMessage(error)}`, error);
  }

  private error(message: string, cause?: unknown): BackendError {
    return new BackendError(`${BACKEND}: ${message}`, BACKEND, this.options.endpoints, { cause });
  }
}

/** The parts of the library's connection manager (not in its typings) that stopClient needs. */
interface ConnectionManagerInternals {
  state: number;
  socket?: { destroy(): void };
  connectTimeoutHandler?: NodeJS.Timeout | null;
  connect(): void;
  onSocketConnected(): void;
  onSocketData(buffer: Buffer): void;
  onSocketClosed(): void;
}

/** ConnectionManager.STATES.CONNECTED and CONNECTED_READ_ONLY of node-zookeeper-client. */
const CONNECTED_STATES = new Set([2, 3]);

/**
 * Ends a client for good. A connected one closes its session properly. One that is not connected must not
 * get close(): the library then marks itself CLOSING, and when a reconnect attempt still under way reaches
 * a server, it reads the server's handshake answer as an ordinary reply and throws from a socket handler
 * ("Unknown code: ...", alexguan/node-zookeeper-client#70), which would end the process. Such a client has
 * no session worth closing: its reconnect loop is stopped and its socket dropped instead. Handlers are
 * replaced on the instance, so sockets that a pending attempt opens later get the harmless ones.
 */
function stopClient(client: ZkLibClient): void {
  const manager = (client as unknown as { connectionManager?: ConnectionManagerInternals }).connectionManager;
  if (!manager || CONNECTED_STATES.has(manager.state)) {
    client.close();
    return;
  }
  const noop = (): void => undefined;
  manager.connect = noop;
  manager.onSocketData = noop;
  manager.onSocketClosed = noop;
  manager.onSocketConnected = function (this: ConnectionManagerInternals) {
    this.socket?.destroy();
  };
  if (manager.connectTimeoutHandler) clearTimeout(manager.connectTimeoutHandler);
  manager.socket?.destroy();
}

function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** zxids are 64-bit (epoch << 32 | counter); as numbers they stay exact while the epoch is below 2^21. */
function zxid(buffer: Buffer): number {
  return Number(buffer.readBigUInt64BE(0));
}

function toStat(stat: ZkLibStat): ZkStat {
  return {
    czxid: zxid(stat.czxid),
    mzxid: zxid(stat.mzxid),
    pzxid: zxid(stat.pzxid),
    numChildren: stat.numChildren,
  };
}
