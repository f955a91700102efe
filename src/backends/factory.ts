import { UnsupportedBackendError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { BackendOptions, StoreClient } from './store-client.js';

/** What every backend module exports. */
export interface BackendModule {
  createClient(options: BackendOptions, logger: Logger): Promise<StoreClient>;
}

export type BackendLoader = () => Promise<BackendModule>;

/**
 * Backend name -> module loader. Loaders import on call, so a store client library (ioredis, consul, ...)
 * is loaded only when its backend is chosen and `-backend file -onetime` starts fast. One line per backend.
 * confd backends missing here (dynamodb, ssm, vault, rancher) are reported as unsupported.
 */
export const BACKENDS: Readonly<Record<string, BackendLoader>> = {
  file: () => import('./file.js'),
  env: () => import('./env.js'),
  zookeeper: () => import('./zookeeper.js'),
  consul: () => import('./consul.js'),
  etcd: () => import('./etcd.js'),
  etcdv3: () => import('./etcd.js'),
  redis: () => import('./redis.js'),
};

/** Names accepted by `-backend`, for help texts and error messages. */
export function supportedBackends(registry: Readonly<Record<string, BackendLoader>> = BACKENDS): string[] {
  return Object.keys(registry).sort();
}

/**
 * Loads the module of `options.backend` and creates its client. Throws UnsupportedBackendError for a
 * backend this build does not have (whether confd knows it or not); the module's own errors pass through.
 * `registry` is for tests.
 */
export async function createStoreClient(
  options: BackendOptions,
  logger: Logger,
  registry: Readonly<Record<string, BackendLoader>> = BACKENDS,
): Promise<StoreClient> {
  const name = options.backend;
  const load = Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (!load) throw new UnsupportedBackendError(name);
  logger.debug(`Loading backend ${name}`);
  const mod = await load();
  return mod.createClient(options, logger);
}
