import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import type { BackendOptions } from '../../src/backends/store-client.js';

/**
 * Backend options as the CLI builds them from default settings (only the BackendOptions fields), with
 * `overrides` applied.
 */
export function backendOptions(overrides: Partial<BackendOptions>): BackendOptions {
  const {
    backend,
    nodes,
    scheme,
    clientInsecure,
    basicAuth,
    separator,
    files,
    filter,
    connectTimeoutMs,
    requestTimeoutMs,
    watchPollMs,
  } = DEFAULT_SETTINGS;
  return {
    backend,
    nodes,
    scheme,
    clientInsecure,
    basicAuth,
    separator,
    files,
    filter,
    connectTimeoutMs,
    requestTimeoutMs,
    watchPollMs,
    ...overrides,
  };
}
