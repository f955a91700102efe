/**
 * The one seam between processors and stores. Every backend implements it; processors never import a
 * backend module directly (see factory.ts), so store clients load only when chosen.
 */

/** Flat key/value pairs as confd sees them: absolute, '/'-separated keys mapped to string values. */
export type KVPairs = Record<string, string>;

export interface WatchOptions {
  /** The store index (revision, zxid, X-Consul-Index ...) the caller last saw; 0 means "none yet". */
  waitIndex: number;
  /** Aborting ends the watch; the promise then rejects with an AbortError or resolves, backend's choice. */
  signal: AbortSignal;
}

export interface StoreClient {
  /**
   * Values of every key equal to, or lying under (on a '/' boundary), one of `keys`. A key that does not
   * exist yields no entry, never an error. Connection and auth failures reject with a BackendError.
   */
  getValues(keys: readonly string[]): Promise<KVPairs>;

  /**
   * Resolves with a new index once something under `prefix` that is relevant to `keys` changed after
   * `waitIndex`. Backends that cannot watch resolve immediately-after-interval or never, as documented.
   */
  watchPrefix(prefix: string, keys: readonly string[], options: WatchOptions): Promise<number>;

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
}
