import type { BackendError } from '../errors.js';

/*
 * The shape of a ZooKeeper session as the tree caches and readers see it; zookeeper-session.ts implements it
 * over node-zookeeper-client.
 */

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
  path: string;
}

export type ZkWatcher = (event: ZkEvent) => void;

/**
 * Promise-shaped reads on one ZooKeeper session. A node that does not exist (NO_NODE) yields undefined, never
 * an error; every other failure rejects with a BackendError. Passing a watcher sets a one-shot watch.
 */
export interface ZkNodeReader {
  getChildren(path: string, watcher?: ZkWatcher): Promise<{ children: string[] } | undefined>;
  getData(path: string, watcher?: ZkWatcher): Promise<{ data: string; stat: ZkStat } | undefined>;
  exists(path: string, watcher?: ZkWatcher): Promise<ZkStat | undefined>;
}

export interface ZkSession extends ZkNodeReader {
  /** False once the session expired, stayed disconnected past the connect timeout, or was closed. */
  readonly alive: boolean;
  /** Called once when the session dies; returns an unsubscribe function. */
  onLost(listener: (err: BackendError) => void): () => void;
  /**
   * Sets a persistent recursive watch on `path` (ZooKeeper 3.6+): every later creation, deletion and data
   * change at or under it is notified (see onNotification) until the connection drops. Resolves false when
   * the server does not know the request; a server older than 3.6 then also closes the session.
   */
  addRecursiveWatch(path: string): Promise<boolean>;
  /** Removes the persistent recursive watch on `path` (a watch not there is no error). */
  removeRecursiveWatch(path: string): Promise<void>;
  /** Every watch notification of the session, one-shot or persistent, in the order received. */
  onNotification(listener: (event: ZkEvent) => void): () => void;
  /**
   * Connection changes within the session: false when the connection drops (the library reconnects on its
   * own), true when it is back. Persistent watches do not come back by themselves; one-shot watches do.
   */
  onConnection(listener: (connected: boolean) => void): () => void;
  /** host:port of the server the session is connected to now, if it is. */
  readonly server: string | undefined;
  /** That server's version ([3, 8]) as it reports it, once known; undefined when it does not say. */
  serverVersion(): Promise<[number, number] | undefined>;
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
  /**
   * false: every read on its own, as for a server older than 3.6, even when the server takes multiRead.
   * Tests use it to exercise that path on a current server.
   */
  batchedReads?: boolean;
}
