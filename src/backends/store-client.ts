/**
 * The one seam between processors and stores. Every backend implements it; processors never import a
 * backend module directly (see factory.ts), so store clients load only when chosen.
 */
import type { KVPairs } from '../kv-pairs.js';

export type { KVPairs };

export interface RequestOptions {
  /**
   * Aborting ends the request: it rejects with the signal's reason. Deadlines are set this way too
   * (AbortSignal.timeout), so a backend has one thing to honour.
   */
  signal?: AbortSignal;
  /**
   * Ask the store itself, even for keys under a watched prefix whose watch keeps a copy (etcd, Consul,
   * ZooKeeper answer those from it). The watch-mode safety-net resync asks for it: a copy kept by a watch
   * cannot repair what that watch missed.
   */
  fresh?: boolean;
}

export interface WatchResult {
  /** Pass back as `afterIndex` on the next call. Monotonic per watch. */
  index: number;
  /** Keys that changed (created, updated or deleted); undefined when the backend cannot tell. */
  changedKeys?: readonly string[];
}

/**
 * A store watch on one prefix, held by one caller until released. Arming and waiting are separate steps:
 * StoreClient.watch arms and says at which index; `next` waits for what comes after an index.
 */
export interface PrefixWatch {
  readonly prefix: string;
  /**
   * The store index (revision, zxid, X-Consul-Index, or a counter of the client's own) at which the watch
   * was armed. A read made after arming, followed by `next(index, ...)`, misses nothing.
   */
  readonly index: number;
  /**
   * Resolves with the changes after `afterIndex` that concern `keys` (a change to a key equal to, under or
   * above one of them), at once when some are buffered already; `changedKeys` undefined means "anything
   * under the prefix may have changed" (a compaction, a restored store). `keys` empty: every change.
   *
   * Rejects with a BackendError once the watch stopped working (connection or session lost for good, the
   * server cancelled it): the holder releases it and arms a new one, pacing itself. A backend never
   * retries a failed watch on its own; the caller owns the one retry layer. Aborting `signal` rejects
   * with its reason.
   */
  next(afterIndex: number, keys: readonly string[], options: { signal: AbortSignal }): Promise<WatchResult>;
  /** This holder no longer needs the watch; the store-side watch ends with its last holder. Idempotent. */
  release(): void;
}

export interface StoreClient {
  /**
   * Values of every key equal to, or lying under (on a '/' boundary), one of `keys`. A key that does not
   * exist yields no entry, never an error. Connection and auth failures reject with a BackendError.
   */
  getValues(keys: readonly string[], options?: RequestOptions): Promise<KVPairs>;

  /**
   * Arms a watch on `prefix` (or joins the one the client already keeps for it: one store-side watch per
   * prefix, however many holders) and resolves once the store accepted it. Rejects with a BackendError
   * when the store refuses or cannot be reached.
   */
  watch(prefix: string, options?: RequestOptions): Promise<PrefixWatch>;

  /**
   * The cheapest request that proves the store answers (a status call, a PING). A daemon sends one now
   * and then, so a store that hangs while nothing changes is noticed (and shown down) all the same.
   */
  ping(options?: RequestOptions): Promise<void>;

  /** Releases connections and every watch. Idempotent. */
  close(): Promise<void>;
}

/** Everything a backend may need to connect: built for it from the settings by the face. */
export interface BackendOptions {
  backend: string;
  nodes: string[];
  scheme: 'http' | 'https';
  clientCert?: string;
  clientKey?: string;
  clientCaKeys?: string;
  clientInsecure: boolean;
  basicAuth: boolean;
  username?: string;
  password?: string;
  authToken?: string;
  authType?: string;
  appId?: string;
  userId?: string;
  roleId?: string;
  secretId?: string;
  table?: string;
  separator: string;
  srvDomain?: string;
  srvRecord?: string;
  /** file backend: files or directories of YAML/JSON. */
  files: string[];
  /** file backend: glob matched against file names inside directories. */
  filter: string;
  /** Upper bound for establishing a connection, in milliseconds. */
  connectTimeoutMs: number;
  /**
   * Upper bound for one request (a read, arming a watch), in milliseconds. Callers also pass deadlines as
   * abort signals; this is what a backend gives its own requests (gRPC deadlines, Redis command timeout).
   */
  requestTimeoutMs: number;
  /** How often a backend that can only poll for changes (Redis without keyspace events) reads again. */
  watchPollMs: number;
}
