import type { StoreClient } from '../backends/store-client.js';
import type { Logger } from '../logging/logger.js';
import { stripPrefix } from '../key-path.js';
import { prefixedKeys } from '../resources/load-resources.js';
import type { TemplateResource } from '../resources/template-resource.js';
import { syncFile } from '../sync/sync-file.js';
import { KVStore } from '../template/kv-store.js';
import type { TemplateCache } from './template-cache.js';

export interface SyncModes {
  noop: boolean;
  syncOnly: boolean;
  keepStageFile: boolean;
}

export type ResourceStatus = 'in-sync' | 'updated' | 'would-update' | 'failed';

export interface ResourceResult {
  resource: TemplateResource;
  status: ResourceStatus;
  error?: Error;
}

/** Fetches the resource's keys, renders its template and syncs the destination. Reload is the caller's. */
export async function renderAndSync(
  resource: TemplateResource,
  store: StoreClient,
  templates: TemplateCache,
  modes: SyncModes,
  logger: Logger,
): Promise<Exclude<ResourceStatus, 'failed'>> {
  const values = await store.getValues(prefixedKeys(resource));
  // Templates see keys relative to the resource prefix, exactly as confd's memkv store holds them.
  const visible: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) visible[stripPrefix(key, resource.prefix)] = value;

  const template = await templates.get(resource.src, resource.engine);
  const content = await template.render(new KVStore(visible));

  const outcome = await syncFile(
    {
      dest: resource.dest,
      content,
      mode: resource.mode,
      uid: resource.uid,
      gid: resource.gid,
      checkCmd: resource.checkCmd,
      checkCmdTimeoutMs: resource.checkCmdTimeoutMs,
      noop: modes.noop,
      syncOnly: modes.syncOnly,
      keepStageFile: modes.keepStageFile,
    },
    logger,
  );
  switch (outcome.status) {
    case 'in-sync':
      logger.debug(`${resource.dest} in sync`);
      return 'in-sync';
    case 'would-update':
      // -noop's whole point is showing the change: the diff goes to stdout, the log line to stderr.
      logger.info(`noop: ${resource.dest} would change`);
      process.stdout.write(outcome.diff.endsWith('\n') ? outcome.diff : `${outcome.diff}\n`);
      return 'would-update';
    case 'updated':
      logger.info(`target config ${resource.dest} has been updated`);
      return 'updated';
  }
}
