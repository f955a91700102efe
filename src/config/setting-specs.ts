import type { Settings } from './settings.js';

/**
 * One table drives the flags, confd.toml keys, CONFD_* variables and the help text, so the four can never
 * disagree about a setting's name, type or default.
 */

/** How a value is written and checked. */
export type ValueKind =
  | 'string'
  | 'boolean'
  /** Repeatable flag; a TOML array; comma-separated in the environment. */
  | 'list'
  /** Whole number of seconds, at least 1 (confd's -interval). */
  | 'seconds'
  /** Go duration ("5s", "500ms") or a plain number of seconds; stored in milliseconds. */
  | 'duration'
  | 'log-level'
  | 'scheme'
  /** Watch debounce "min:max" of Go durations ("2s:10s"); stored as a WaitWindow in milliseconds. */
  | 'wait-window'
  /** One of the spec's `choices`, case-insensitive. */
  | 'choice'
  /** host:port to listen on ("127.0.0.1:9100", "[::1]:9100", ":9100" for every interface). */
  | 'address';

export type HelpGroup = 'Modes' | 'Template resources' | 'Backend' | 'TLS & auth' | 'Logging & monitoring';

export const HELP_GROUPS: readonly HelpGroup[] = [
  'Modes',
  'Template resources',
  'Backend',
  'TLS & auth',
  'Logging & monitoring',
];

export type SettingKey = keyof Settings;

export interface SettingSpec {
  /** Flag name without dashes, as confd spells it. */
  flag: string;
  key: SettingKey;
  kind: ValueKind;
  group: HelpGroup;
  description: string;
  /** Placeholder shown in help after the flag, for flags that take a value. */
  valueName?: string;
  /** Keys accepted in confd.toml; the first one is the documented spelling. Empty: not settable there. */
  tomlKeys: readonly string[];
  envVar: string;
  /** Never printed: masked by redactSecrets and left out of error messages. */
  secret?: boolean;
  /** kind 'choice': the accepted values, lower case. */
  choices?: readonly string[];
}

/** -version is a flag but not a setting. */
export const VERSION_FLAG = 'version';

const spec = (s: SettingSpec): SettingSpec => s;

export const SETTING_SPECS: readonly SettingSpec[] = [
  // Modes
  spec({
    flag: 'onetime',
    key: 'onetime',
    kind: 'boolean',
    group: 'Modes',
    description: 'run once and exit',
    tomlKeys: ['onetime'],
    envVar: 'CONFD_ONETIME',
  }),
  spec({
    flag: 'interval',
    key: 'interval',
    kind: 'seconds',
    group: 'Modes',
    description: 'seconds between passes in interval mode',
    valueName: 'seconds',
    tomlKeys: ['interval'],
    envVar: 'CONFD_INTERVAL',
  }),
  spec({
    flag: 'watch',
    key: 'watch',
    kind: 'boolean',
    group: 'Modes',
    description: 'watch the backend for changes instead of polling',
    tomlKeys: ['watch'],
    envVar: 'CONFD_WATCH',
  }),
  spec({
    flag: 'wait',
    key: 'wait',
    kind: 'wait-window',
    group: 'Modes',
    description: 'with -watch: render a burst once, min after its last change, max after its first',
    valueName: 'min:max',
    tomlKeys: ['wait'],
    envVar: 'CONFD_WAIT',
  }),
  spec({
    flag: 'shutdown-timeout',
    key: 'shutdownTimeoutMs',
    kind: 'duration',
    group: 'Modes',
    description: 'on SIGTERM: time the work in flight gets before it is cut short',
    valueName: 'duration',
    tomlKeys: ['shutdown_timeout'],
    envVar: 'CONFD_SHUTDOWN_TIMEOUT',
  }),
  spec({
    flag: 'noop',
    key: 'noop',
    kind: 'boolean',
    group: 'Modes',
    description: 'only show pending changes (a diff), write nothing',
    tomlKeys: ['noop'],
    envVar: 'CONFD_NOOP',
  }),
  spec({
    flag: 'sync-only',
    key: 'syncOnly',
    kind: 'boolean',
    group: 'Modes',
    description: 'sync files without running check_cmd and reload_cmd',
    tomlKeys: ['sync-only', 'sync_only'],
    envVar: 'CONFD_SYNC_ONLY',
  }),
  // Template resources
  spec({
    flag: 'confdir',
    key: 'confdir',
    kind: 'string',
    group: 'Template resources',
    description: 'directory holding conf.d/ and templates/',
    valueName: 'dir',
    tomlKeys: ['confdir'],
    envVar: 'CONFD_CONFDIR',
  }),
  spec({
    flag: 'config-file',
    key: 'configFile',
    kind: 'string',
    group: 'Template resources',
    description: 'the confd config file',
    valueName: 'file',
    tomlKeys: [],
    envVar: 'CONFD_CONFIG_FILE',
  }),
  spec({
    flag: 'prefix',
    key: 'prefix',
    kind: 'string',
    group: 'Template resources',
    description: 'key path prefix joined in front of every resource prefix',
    valueName: 'path',
    tomlKeys: ['prefix'],
    envVar: 'CONFD_PREFIX',
  }),
  spec({
    flag: 'template-engine',
    key: 'templateEngine',
    kind: 'string',
    group: 'Template resources',
    description:
      "auto (.hbs/.handlebars: Handlebars, else Go), go or handlebars; a resource's engine key wins",
    valueName: 'engine',
    tomlKeys: ['template_engine', 'template-engine'],
    envVar: 'CONFD_TEMPLATE_ENGINE',
  }),
  spec({
    flag: 'keep-stage-file',
    key: 'keepStageFile',
    kind: 'boolean',
    group: 'Template resources',
    description: 'keep staged files next to their destination',
    tomlKeys: ['keep_stage_file', 'keep-stage-file'],
    envVar: 'CONFD_KEEP_STAGE_FILE',
  }),
  // Backend
  spec({
    flag: 'backend',
    key: 'backend',
    kind: 'string',
    group: 'Backend',
    description: 'file, env, etcd, etcdv3, zookeeper, consul, redis',
    valueName: 'name',
    tomlKeys: ['backend'],
    envVar: 'CONFD_BACKEND',
  }),
  spec({
    flag: 'node',
    key: 'nodes',
    kind: 'list',
    group: 'Backend',
    description: 'backend node address; repeatable (default: per backend)',
    valueName: 'address',
    tomlKeys: ['nodes'],
    envVar: 'CONFD_NODES',
  }),
  spec({
    flag: 'scheme',
    key: 'scheme',
    kind: 'scheme',
    group: 'Backend',
    description: 'http or https, for nodes found through DNS SRV',
    valueName: 'scheme',
    tomlKeys: ['scheme'],
    envVar: 'CONFD_SCHEME',
  }),
  spec({
    flag: 'srv-domain',
    key: 'srvDomain',
    kind: 'string',
    group: 'Backend',
    description: 'domain to query for _<backend>._tcp SRV records',
    valueName: 'domain',
    tomlKeys: ['srv_domain'],
    envVar: 'CONFD_SRV_DOMAIN',
  }),
  spec({
    flag: 'srv-record',
    key: 'srvRecord',
    kind: 'string',
    group: 'Backend',
    description: 'SRV record listing the nodes, e.g. _etcd._tcp.example.com',
    valueName: 'record',
    tomlKeys: ['srv_record'],
    envVar: 'CONFD_SRV_RECORD',
  }),
  spec({
    flag: 'connect-timeout',
    key: 'connectTimeoutMs',
    kind: 'duration',
    group: 'Backend',
    description: 'backend connect timeout: a duration or seconds',
    valueName: 'duration',
    tomlKeys: ['connect_timeout'],
    envVar: 'CONFD_CONNECT_TIMEOUT',
  }),
  spec({
    flag: 'request-timeout',
    key: 'requestTimeoutMs',
    kind: 'duration',
    group: 'Backend',
    description: 'deadline of one store request and one DNS lookup',
    valueName: 'duration',
    tomlKeys: ['request_timeout'],
    envVar: 'CONFD_REQUEST_TIMEOUT',
  }),
  spec({
    flag: 'watch-poll',
    key: 'watchPollMs',
    kind: 'duration',
    group: 'Backend',
    description: 'with -watch: read a store that cannot notify this often (redis)',
    valueName: 'duration',
    tomlKeys: ['watch_poll'],
    envVar: 'CONFD_WATCH_POLL',
  }),
  spec({
    flag: 'file',
    key: 'files',
    kind: 'list',
    group: 'Backend',
    description: 'YAML/JSON file or directory; repeatable (-backend file)',
    valueName: 'path',
    tomlKeys: ['file'],
    envVar: 'CONFD_FILE',
  }),
  spec({
    flag: 'filter',
    key: 'filter',
    kind: 'string',
    group: 'Backend',
    description: 'glob for file names in -file directories',
    valueName: 'glob',
    tomlKeys: ['filter'],
    envVar: 'CONFD_FILTER',
  }),
  spec({
    flag: 'separator',
    key: 'separator',
    kind: 'string',
    group: 'Backend',
    description: "replaces '/' in store keys (-backend redis)",
    valueName: 'sep',
    tomlKeys: ['separator'],
    envVar: 'CONFD_SEPARATOR',
  }),
  spec({
    flag: 'table',
    key: 'table',
    kind: 'string',
    group: 'Backend',
    description: 'DynamoDB table name (-backend dynamodb)',
    valueName: 'name',
    tomlKeys: ['table'],
    envVar: 'CONFD_TABLE',
  }),
  // TLS & auth
  spec({
    flag: 'client-cert',
    key: 'clientCert',
    kind: 'string',
    group: 'TLS & auth',
    description: 'client certificate file',
    valueName: 'file',
    tomlKeys: ['client_cert'],
    envVar: 'CONFD_CLIENT_CERT',
  }),
  spec({
    flag: 'client-key',
    key: 'clientKey',
    kind: 'string',
    group: 'TLS & auth',
    description: 'client private key file',
    valueName: 'file',
    tomlKeys: ['client_key'],
    envVar: 'CONFD_CLIENT_KEY',
    secret: true,
  }),
  spec({
    flag: 'client-ca-keys',
    key: 'clientCaKeys',
    kind: 'string',
    group: 'TLS & auth',
    description: 'CA certificate file used to verify the backend',
    valueName: 'file',
    tomlKeys: ['client_cakeys'],
    envVar: 'CONFD_CLIENT_CAKEYS',
  }),
  spec({
    flag: 'client-insecure',
    key: 'clientInsecure',
    kind: 'boolean',
    group: 'TLS & auth',
    description: 'accept backend TLS certificates without verifying them',
    tomlKeys: ['client_insecure'],
    envVar: 'CONFD_CLIENT_INSECURE',
  }),
  spec({
    flag: 'basic-auth',
    key: 'basicAuth',
    kind: 'boolean',
    group: 'TLS & auth',
    description: 'authenticate with -username and -password (etcd, consul)',
    tomlKeys: ['basic_auth'],
    envVar: 'CONFD_BASIC_AUTH',
  }),
  spec({
    flag: 'username',
    key: 'username',
    kind: 'string',
    group: 'TLS & auth',
    description: 'user name to authenticate as',
    valueName: 'name',
    tomlKeys: ['username'],
    envVar: 'CONFD_USERNAME',
  }),
  spec({
    flag: 'password',
    key: 'password',
    kind: 'string',
    group: 'TLS & auth',
    description: 'password to authenticate with',
    valueName: 'secret',
    tomlKeys: ['password'],
    envVar: 'CONFD_PASSWORD',
    secret: true,
  }),
  spec({
    flag: 'auth-token',
    key: 'authToken',
    kind: 'string',
    group: 'TLS & auth',
    description: 'auth bearer token (consul ACL token, vault token)',
    valueName: 'token',
    tomlKeys: ['auth_token'],
    envVar: 'CONFD_AUTH_TOKEN',
    secret: true,
  }),
  spec({
    flag: 'auth-type',
    key: 'authType',
    kind: 'string',
    group: 'TLS & auth',
    description: 'vault auth backend type (-backend vault)',
    valueName: 'type',
    tomlKeys: ['auth_type'],
    envVar: 'CONFD_AUTH_TYPE',
  }),
  spec({
    flag: 'app-id',
    key: 'appId',
    kind: 'string',
    group: 'TLS & auth',
    description: 'vault app-id (-auth-type app-id)',
    valueName: 'id',
    tomlKeys: ['app_id'],
    envVar: 'CONFD_APP_ID',
  }),
  spec({
    flag: 'user-id',
    key: 'userId',
    kind: 'string',
    group: 'TLS & auth',
    description: 'vault user-id (-auth-type app-id)',
    valueName: 'id',
    tomlKeys: ['user_id'],
    envVar: 'CONFD_USER_ID',
  }),
  spec({
    flag: 'role-id',
    key: 'roleId',
    kind: 'string',
    group: 'TLS & auth',
    description: 'vault role-id (-auth-type app-role or kubernetes)',
    valueName: 'id',
    tomlKeys: ['role_id'],
    envVar: 'CONFD_ROLE_ID',
  }),
  spec({
    flag: 'secret-id',
    key: 'secretId',
    kind: 'string',
    group: 'TLS & auth',
    description: 'vault secret-id (-auth-type app-role)',
    valueName: 'secret',
    tomlKeys: ['secret_id'],
    envVar: 'CONFD_SECRET_ID',
    secret: true,
  }),
  spec({
    flag: 'path',
    key: 'path',
    kind: 'string',
    group: 'TLS & auth',
    description: 'vault mount path of the auth method',
    valueName: 'path',
    tomlKeys: ['path'],
    envVar: 'CONFD_PATH',
  }),
  // Logging
  spec({
    flag: 'log-level',
    key: 'logLevel',
    kind: 'log-level',
    group: 'Logging & monitoring',
    description: 'debug, info, warn or error',
    valueName: 'level',
    tomlKeys: ['log-level', 'log_level'],
    envVar: 'CONFD_LOG_LEVEL',
  }),
  spec({
    flag: 'log-format',
    key: 'logFormat',
    kind: 'choice',
    choices: ['text', 'json'],
    group: 'Logging & monitoring',
    description: 'text (the line format of confd) or json (one object per line)',
    valueName: 'format',
    tomlKeys: ['log_format', 'log-format'],
    envVar: 'CONFD_LOG_FORMAT',
  }),
  spec({
    flag: 'metrics-addr',
    key: 'metricsAddr',
    kind: 'address',
    group: 'Logging & monitoring',
    description: 'serve /metrics, /healthz, /readyz and /status on host:port (bind 127.0.0.1)',
    valueName: 'host:port',
    tomlKeys: ['metrics_addr'],
    envVar: 'CONFD_METRICS_ADDR',
  }),
];

const BY_FLAG = new Map(SETTING_SPECS.map((s) => [s.flag, s]));

export function specForFlag(flag: string): SettingSpec | undefined {
  return BY_FLAG.get(flag);
}
