import type { SettingKey } from './setting-specs.js';

/**
 * Which connection settings each backend reads, so a setting the chosen backend ignores is reported instead
 * of silently dropped. Kept here rather than in the backend modules: those load store client libraries,
 * and checking the settings must not. A backend module that starts reading a setting adds it here.
 */

/** Settings that only matter to some backends; every other setting applies whatever the backend. */
export const BACKEND_SCOPED_SETTINGS: readonly SettingKey[] = [
  'nodes',
  'scheme',
  'srvDomain',
  'srvRecord',
  'connectTimeoutMs',
  'files',
  'filter',
  'separator',
  'table',
  'clientCert',
  'clientKey',
  'clientCaKeys',
  'clientInsecure',
  'basicAuth',
  'username',
  'password',
  'authToken',
  'authType',
  'appId',
  'userId',
  'roleId',
  'secretId',
  'path',
];

/** Nodes listed directly or found through DNS SRV, within the connect timeout. */
const NETWORK: readonly SettingKey[] = ['nodes', 'srvDomain', 'srvRecord', 'connectTimeoutMs'];
const TLS: readonly SettingKey[] = ['clientCert', 'clientKey', 'clientCaKeys', 'clientInsecure'];

/** Backend name -> the scoped settings it reads. One entry per backend in backends/factory.ts. */
export const BACKEND_SETTINGS: Readonly<Record<string, readonly SettingKey[]>> = {
  file: ['files', 'filter'],
  env: [],
  etcd: [...NETWORK, 'scheme', ...TLS, 'basicAuth', 'username', 'password'],
  etcdv3: [...NETWORK, 'scheme', ...TLS, 'basicAuth', 'username', 'password'],
  zookeeper: [...NETWORK, 'username', 'password'],
  consul: [...NETWORK, 'scheme', ...TLS, 'basicAuth', 'username', 'password', 'authToken'],
  // confd's redis backend takes its password from -client-key when -password is empty; so does ours.
  redis: [...NETWORK, 'username', 'password', 'clientKey', 'separator'],
};

/**
 * The settings among `keys` that `backend` ignores, in the order given. Empty for a backend not in the
 * table: the factory rejects it as unsupported, which says more than a warning per setting would.
 */
export function settingsIgnoredBy(backend: string, keys: Iterable<SettingKey>): SettingKey[] {
  const used = Object.hasOwn(BACKEND_SETTINGS, backend) ? BACKEND_SETTINGS[backend] : undefined;
  if (!used) return [];
  return [...keys].filter((key) => BACKEND_SCOPED_SETTINGS.includes(key) && !used.includes(key));
}
