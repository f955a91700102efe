import type { BackendOptions } from '../backends/store-client.js';
import type { Settings } from '../config/settings.js';

/** The connection settings, and only those: what a backend is handed (it never sees the whole Settings). */
export function backendOptions(settings: Readonly<Settings>): BackendOptions {
  const options: BackendOptions = {
    backend: settings.backend,
    nodes: [...settings.nodes],
    scheme: settings.scheme,
    clientInsecure: settings.clientInsecure,
    basicAuth: settings.basicAuth,
    separator: settings.separator,
    files: [...settings.files],
    filter: settings.filter,
    connectTimeoutMs: settings.connectTimeoutMs,
    requestTimeoutMs: settings.requestTimeoutMs,
    watchPollMs: settings.watchPollMs,
  };
  const optional = [
    'clientCert',
    'clientKey',
    'clientCaKeys',
    'username',
    'password',
    'authToken',
    'authType',
    'appId',
    'userId',
    'roleId',
    'secretId',
    'table',
    'srvDomain',
    'srvRecord',
  ] as const;
  for (const key of optional) {
    const value = settings[key];
    if (value !== undefined) options[key] = value;
  }
  return options;
}
