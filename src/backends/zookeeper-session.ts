import type ZkLib from 'node-zookeeper-client';
import type { Client as ZkLibClient, Exception as ZkLibException } from 'node-zookeeper-client';
import { BackendError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import {
  batchWrites,
  connectedServer,
  connectionManager,
  frameReplies,
  send,
  stopClient,
  tapNotifications,
  type ConnectionManagerInternals,
} from './zookeeper-connection.js';
import { probeEndpoints, type ServerVersion } from './zookeeper-probe.js';
import { ServerFeatures } from './zookeeper-read-batch.js';
import {
  addWatchRequest,
  existsRequest,
  getChildrenRequest,
  getDataRequest,
  multiReadRequest,
  readFailure,
  OP_GET_CHILDREN,
  OP_GET_DATA,
  PERSISTENT_RECURSIVE,
  removeRecursiveWatchRequest,
  type WireRequest,
  type ZkChildren,
  type ZkData,
  type ZkRead,
  type ZkReadResult,
} from './zookeeper-requests.js';

export type {
  ZkEvent,
  ZkNodeReader,
  ZkSession,
  ZkSessionOptions,
  ZkStat,
  ZkWatcher,
} from './zookeeper-session-types.js';
import type { ZkEvent, ZkSession, ZkSessionOptions, ZkStat, ZkWatcher } from './zookeeper-session-types.js';

const BACKEND = 'zookeeper';

/**
 * Requests outstanding on one session at most. Enough to keep the connection busy (the server answers in
 * order, so more in flight only adds memory: every pending request holds its callbacks and timer), few
 * enough that reading a subtree of 100,000 nodes does not queue 100,000 of them at once.
 */
const MAX_IN_FLIGHT = 2048;

/**
 * Opens a session on the ensemble (all endpoints in one connection string; the library picks among them) and
 * waits until it is connected. The library retries forever on its own, so the connect timeout is enforced
 * here, and a failed attempt closes the client so no socket or timer keeps the process alive.
 */
export async function openSession(
  options: ZkSessionOptions,
  logger: Logger,
  signal?: AbortSignal,
): Promise<ZkSession> {
  const zk = await loadLibrary();
  const client = zk.createClient(options.endpoints.join(','), {
    retries: 0,
    ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeout: options.sessionTimeoutMs }),
  });
  const withAuth = options.username !== undefined && options.username !== '';
  if (withAuth) {
    // Digest auth never fails at connect time: a wrong password only shows up as NOAUTH on protected nodes.
    client.addAuthInfo('digest', Buffer.from(`${options.username}:${options.password ?? ''}`));
  }
  const manager = connectionManager(client);
  if (!manager)
    throw new Error('node-zookeeper-client no longer has the connection manager this backend drives');
  frameReplies(manager);
  const session = new Session(client, zk.Exception, options, withAuth, logger, manager);
  await session.connect(signal);
  return session;
}

type ExceptionCodes = typeof ZkLibException;

/**
 * The library is bundled into dist/node-zookeeper-client.cjs (scripts/bundle.mjs), where this import() is a
 * plain require of that file: one file, no module resolution over its ~40 files.
 */
async function loadLibrary(): Promise<typeof ZkLib> {
  return (await import('node-zookeeper-client')).default;
}

class Session implements ZkSession {
  private lost: BackendError | undefined;
  private readonly pending = new Set<(err: BackendError) => void>();
  private readonly lostListeners = new Set<(err: BackendError) => void>();
  private disconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Requests sent and not yet answered, and those waiting for room (see MAX_IN_FLIGHT). */
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly batch: () => void;
  private readonly notificationListeners = new Set<(event: ZkEvent) => void>();
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  /** What the server of the current connection can do (multiRead batches). */
  private readonly features: ServerFeatures;

  constructor(
    private readonly client: ZkLibClient,
    private readonly codes: ExceptionCodes,
    private readonly options: ZkSessionOptions,
    private readonly withAuth: boolean,
    private readonly logger: Logger,
    private readonly manager: ConnectionManagerInternals,
  ) {
    this.batch = batchWrites(manager);
    this.features = new ServerFeatures(
      Math.min(1000, options.connectTimeoutMs),
      options.batchedReads !== false,
      (reads) => this.multiRead(reads),
    );
    tapNotifications(manager, (event) => {
      for (const listener of [...this.notificationListeners]) listener(event);
    });
  }

  get server(): string | undefined {
    return connectedServer(this.manager);
  }

  serverVersion(): Promise<ServerVersion | undefined> {
    return this.features.serverVersion();
  }

  onNotification(listener: (event: ZkEvent) => void): () => void {
    this.notificationListeners.add(listener);
    return () => this.notificationListeners.delete(listener);
  }

  onConnection(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  private connectionChanged(connected: boolean): void {
    for (const listener of [...this.connectionListeners]) listener(connected);
  }

  async removeRecursiveWatch(path: string): Promise<void> {
    // NO_NODE is "no such watch" here.
    await this.request(path, removeRecursiveWatchRequest(path));
  }

  async addRecursiveWatch(path: string): Promise<boolean> {
    try {
      await this.request(path, addWatchRequest(path, PERSISTENT_RECURSIVE));
      return true;
    } catch (err) {
      if (codeOf((err as { cause?: unknown }).cause) === this.codes.UNIMPLEMENTED) return false;
      throw err;
    }
  }

  get alive(): boolean {
    return this.lost === undefined;
  }

  /**
   * `signal` gives up at once (the client closing): a server that is restarting, or that accepted the
   * socket and never answers the handshake, must not hold the caller for the whole connect timeout.
   */
  connect(signal?: AbortSignal): Promise<void> {
    const { endpoints, connectTimeoutMs } = this.options;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.client.removeListener('connected', onConnected);
        this.client.removeListener('authenticationFailed', onAuthFailed);
        return true;
      };
      const onAbort = (): void => {
        if (!settle()) return;
        const err = this.error('client closed');
        this.markLost(err);
        reject(err);
      };
      const onConnected = (): void => {
        if (!settle()) return;
        this.features.learn(this.server);
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
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
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
      this.features.disconnected();
      if (!this.lost) this.connectionChanged(false);
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
      this.features.learn(this.server);
      clearTimeout(this.disconnectTimer);
      this.disconnectTimer = undefined;
      if (!this.lost) this.connectionChanged(true);
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
    this.features.closed();
    clearTimeout(this.disconnectTimer);
    for (const reject of this.pending) reject(err);
    this.pending.clear();
    for (const listener of this.lostListeners) listener(err);
    this.lostListeners.clear();
    this.notificationListeners.clear();
    this.connectionListeners.clear();
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

  getChildren(path: string, watcher?: ZkWatcher): Promise<ZkChildren | undefined> {
    if (!watcher) return this.unwatched({ op: OP_GET_CHILDREN, path }, () => getChildrenRequest(path, false));
    return this.request(path, getChildrenRequest(path, true), (found) => {
      if (found) this.manager.registerChildWatcher(path, watcher);
    });
  }

  getData(path: string, watcher?: ZkWatcher): Promise<ZkData | undefined> {
    if (!watcher) return this.unwatched({ op: OP_GET_DATA, path }, () => getDataRequest(path, false));
    return this.request(path, getDataRequest(path, true), (found) => {
      if (found) this.manager.registerDataWatcher(path, watcher);
    });
  }

  /**
   * A read that sets no watch: in a multiRead batch when the server takes them, else on its own. The reply
   * decoder checks that every answer is of the op asked (multiReadRequest), so its type is T's.
   */
  private async unwatched<T extends ZkData | ZkChildren>(
    read: ZkRead,
    single: () => WireRequest<T>,
  ): Promise<T | undefined> {
    const batcher = await this.features.readBatcher();
    const result = batcher && (await batcher.read(read));
    if (!result) return this.request(read.path, single());
    if (!('error' in result)) return result as T;
    if (result.error === this.codes.NO_NODE) return undefined;
    throw this.requestError(read.path, readFailure(result.error, this.codes));
  }

  private multiRead(reads: ZkRead[]): Promise<ZkReadResult[]> {
    const first = reads[0]?.path ?? '/';
    const label = reads.length > 1 ? `${first} and ${reads.length - 1} more` : first;
    return this.request(label, multiReadRequest(reads)).then((results) => results ?? []);
  }

  exists(path: string, watcher?: ZkWatcher): Promise<ZkStat | undefined> {
    return this.request(path, existsRequest(path, watcher !== undefined), (found) => {
      // As the server does: a watch on a node that exists fires on its change, else on its creation.
      if (!watcher) return;
      if (found) this.manager.registerDataWatcher(path, watcher);
      else this.manager.registerExistenceWatcher(path, watcher);
    });
  }

  /**
   * Sends one request, waiting first while MAX_IN_FLIGHT are outstanding. `registered` runs when the reply
   * arrives (found: false for NO_NODE), before anything else can see it: a watch the request set is then
   * known to the library (which routes its notification, and re-sets it after a reconnect) by the time the
   * caller acts on the reply.
   */
  private request<T>(
    path: string,
    wire: WireRequest<T>,
    registered?: (found: boolean) => void,
  ): Promise<T | undefined> {
    if (this.inFlight < MAX_IN_FLIGHT) return this.send(path, wire, registered);
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() =>
      this.send(path, wire, registered),
    );
  }

  /**
   * Requests queued while the connection is down would wait for a reconnect that may never come, so every
   * request also fails as soon as the session is declared lost.
   */
  private send<T>(
    path: string,
    wire: WireRequest<T>,
    registered?: (found: boolean) => void,
  ): Promise<T | undefined> {
    this.inFlight += 1;
    const sent = new Promise<T | undefined>((resolve, reject) => {
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
        // A request cannot be cancelled; its late answer finds the promise settled and is dropped.
        timer = setTimeout(
          () => fail(this.error(`no answer reading ${path} within ${timeoutMs} ms (server hanging?)`)),
          timeoutMs,
        );
      }
      this.batch();
      send(this.manager, wire, (error, result) => {
        const noNode = error !== null && error !== undefined && codeOf(error) === this.codes.NO_NODE;
        if (!error || noNode) registered?.(!noNode);
        if (!this.pending.has(fail)) return;
        clearTimeout(timer);
        this.pending.delete(fail);
        if (noNode) resolve(undefined);
        else if (error) reject(this.requestError(path, error));
        else if (result === undefined)
          reject(this.error(`reading ${path}: the server's reply did not decode`));
        else resolve(result);
      });
    });
    const next = (): void => {
      this.inFlight -= 1;
      this.waiting.shift()?.();
    };
    sent.then(next, next);
    return sent;
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

function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
