import { UnsupportedBackendError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { BackendOptions, StoreClient } from './store-client.js';

/** What every backend module exports. */
export interface BackendModule {
  createClient(options: BackendOptions, logger: Logger): Promise<StoreClient>;
  /**
   * Loads the Node.js modules its client loads only when it is created or connects (ioredis's node:net,
   * node:tls, ...; etcd's node:http2): what the module imports itself comes with the module. For plain
   * endpoints; an https Consul agent (node:https) or an SRV lookup (node:dns) still loads its module later.
   */
  loadNodeModules?(): Promise<unknown>;
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
 * Loads the module of `backend` and the Node.js modules its client will use, without connecting: a run does
 * this before it sets its V8 flags, which would make Node.js compile each of its own modules loaded
 * afterwards from source (see cli/v8-tuning.ts). A warm-up only: a daemon whose reload switches to another
 * backend loads that one's modules when it connects. Throws UnsupportedBackendError as createStoreClient
 * does.
 */
export async function prepareBackend(
  backend: string,
  registry: Readonly<Record<string, BackendLoader>> = BACKENDS,
): Promise<void> {
  const mod = await loadBackend(backend, registry);
  await mod.loadNodeModules?.();
}

function loadBackend(
  name: string,
  registry: Readonly<Record<string, BackendLoader>>,
): Promise<BackendModule> {
  const load = Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (!load) throw new UnsupportedBackendError(name);
  return load();
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
  logger.debug(`Loading backend ${options.backend}`);
  const mod = await loadBackend(options.backend, registry);
  return mod.createClient(options, logger);
}
