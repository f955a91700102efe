import type { WaitWindow } from './wait-window.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** text: confd's line format. json: one object per line, for log shippers. */
export type LogFormat = 'text' | 'json';

/** The fully resolved run configuration: defaults < confd.toml < CONFD_* env < flags. */
export interface Settings {
  // Backend connection (the face hands the backend only these, see cli/backend-options.ts).
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
  connectTimeoutMs: number;
  /** Deadline of one store request (a read, arming a watch) and of one DNS lookup. */
  requestTimeoutMs: number;
  /** Watch mode: how often a store without change notifications (Redis without keyspace events) is read. */
  watchPollMs: number;

  confdir: string;
  configFile: string;
  /** Seconds between passes in interval mode; the resync period in watch mode. */
  interval: number;
  onetime: boolean;
  watch: boolean;
  /** Watch mode: debounce window for every resource without its own `wait`; undefined renders at once. */
  wait?: WaitWindow;
  noop: boolean;
  syncOnly: boolean;
  keepStageFile: boolean;
  /** How long a daemon asked to stop lets the work in flight finish before cutting it short. */
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** host:port of the metrics, health and status endpoints; undefined: no server. */
  metricsAddr?: string;
  /** Global key prefix, joined in front of every resource prefix. */
  prefix: string;
  /** -template-engine: auto, go or handlebars (checked where templates are compiled). */
  templateEngine: string;
  /** vault: mount path of the auth method (`-path`). Accepted for confd compatibility. */
  path?: string;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  backend: 'etcd',
  nodes: [],
  scheme: 'http',
  clientInsecure: false,
  basicAuth: false,
  separator: '/',
  files: [],
  filter: '*',
  connectTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  watchPollMs: 1000,
  confdir: '/etc/confd',
  configFile: '/etc/confd/confd.toml',
  interval: 600,
  onetime: false,
  watch: false,
  noop: false,
  syncOnly: false,
  keepStageFile: false,
  shutdownTimeoutMs: 30_000,
  logLevel: 'info',
  logFormat: 'text',
  prefix: '',
  templateEngine: 'auto',
});
