/**
 * The one seam between processors and stores. Every backend implements it; processors never import a
 * backend module directly (see factory.ts), so store clients load only when chosen.
 */

/** Flat key/value pairs as confd sees them: absolute, '/'-separated keys mapped to string values. */
export type KVPairs = Record<string, string>;

export interface WatchOptions {
  /** The store index (revision, zxid, X-Consul-Index ...) the caller last saw; 0 means "none yet". */
  waitIndex: number;
  /** Aborting ends the wait: the promise rejects with an AbortError. */
  signal: AbortSignal;
}

export interface WatchResult {
  /** Pass back as `waitIndex` on the next call. Monotonic per prefix. */
  index: number;
  /** Keys that changed (created, updated or deleted); undefined when the backend cannot tell. */
  changedKeys?: readonly string[];
}

export interface StoreClient {
  /**
   * Values of every key equal to, or lying under (on a '/' boundary), one of `keys`. A key that does not
   * exist yields no entry, never an error. Connection and auth failures reject with a BackendError.
   */
  getValues(keys: readonly string[]): Promise<KVPairs>;

  /**
   * Waits for a change under `prefix` after `waitIndex` and resolves with the new index and, when the
   * backend knows them, the keys that changed (absolute, like getValues' keys). `waitIndex` 0 resolves at
   * once with the store's current index and arms the watch, so a caller that then reads and renders
   * loses nothing: the next call with that index reports every change made after it.
   *
   * Backends keep one long-lived watch per prefix, however many callers wait on it, and buffer events by
   * index, so re-arming between calls never misses a change. `changedKeys` undefined means "something under
   * the prefix may have changed" (resync after a compaction, a reconnect, a session expiry).
   * Aborting `signal` rejects with an AbortError.
   */
  watchPrefix(prefix: string, keys: readonly string[], options: WatchOptions): Promise<WatchResult>;

  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}

/** Everything a backend may need to connect. Built from the resolved settings by the CLI. */
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
   * `-interval` in seconds: a backend that has to poll for changes (Redis without keyspace events) polls at
   * it. Absent (library use, tests): the backend's own default.
   */
  interval?: number;
}
