import type { BackendOptions } from '../backends/store-client.js';
import type { WaitWindow } from './wait-window.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The fully resolved run configuration: defaults < confd.toml < CONFD_* env < flags. */
export interface Settings extends BackendOptions {
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
  logLevel: LogLevel;
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
  confdir: '/etc/confd',
  configFile: '/etc/confd/confd.toml',
  interval: 600,
  onetime: false,
  watch: false,
  noop: false,
  syncOnly: false,
  keepStageFile: false,
  logLevel: 'info',
  prefix: '',
  templateEngine: 'auto',
});
