import type { StoreClient } from '../backends/store-client.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { TemplateResource } from '../resources/template-resource.js';
import { runCommand, substituteVars } from '../sync/run-command.js';
import type { ResourceResult, SyncModes } from './process-resource.js';
import { renderAndSync } from './process-resource.js';
import type { TemplateCache } from './template-cache.js';

export interface PassContext {
  store: StoreClient;
  templates: TemplateCache;
  modes: SyncModes;
  logger: Logger;
  /**
   * Once aborted, no further resource is started: a daemon asked to stop must not sit through every
   * remaining check and reload. Resources already written still get their reload, so no new file is left
   * without it.
   */
  signal?: AbortSignal;
  /**
   * Reload commands (after substitution) that failed in an earlier pass of the same daemon. Their files
   * are already written, so a retry finds them in sync; the reload must still run until it succeeds.
   */
  pendingReloads?: Set<string>;
}

/**
 * Renders and syncs every resource, then runs the reload commands of those that changed. Resources that
 * share a reload command (after {{.dest}} substitution) trigger it once per pass: three nginx vhosts
 * changing together mean one nginx reload. One failing resource never stops the others.
 */
export async function runPass(
  resources: readonly TemplateResource[],
  ctx: PassContext,
): Promise<ResourceResult[]> {
  const results: ResourceResult[] = [];
  const reloads = new Map<string, { resource: TemplateResource; results: ResourceResult[] }>();

  for (const resource of resources) {
    if (ctx.signal?.aborted) break;
    let result: ResourceResult;
    try {
      const status = await renderAndSync(resource, ctx.store, ctx.templates, ctx.modes, ctx.logger);
      result = { resource, status };
    } catch (err) {
      result = { resource, status: 'failed', error: err instanceof Error ? err : new Error(String(err)) };
      ctx.logger.error(`${resource.dest}: ${errorMessage(err)}`);
    }
    results.push(result);
    const key = reloadKey(resource);
    const needsReload =
      result.status === 'updated' || (result.status === 'in-sync' && ctx.pendingReloads?.has(key) === true);
    if (needsReload && resource.reloadCmd && !ctx.modes.syncOnly) {
      const entry = reloads.get(key) ?? { resource, results: [] };
      entry.results.push(result);
      reloads.set(key, entry);
    }
  }

  for (const [key, { resource, results: affected }] of reloads) {
    try {
      await runCommand(
        resource.reloadCmd ?? '',
        // After the rename the staged file *is* dest, so both names point at the new content.
        { src: resource.dest, dest: resource.dest },
        resource.reloadCmdTimeoutMs,
        ctx.logger,
        'reload',
      );
      ctx.pendingReloads?.delete(key);
    } catch (err) {
      ctx.pendingReloads?.add(key);
      ctx.logger.error(
        `reload for ${affected.map((r) => r.resource.dest).join(', ')} failed: ${errorMessage(err)}`,
      );
      for (const r of affected) {
        r.status = 'failed';
        r.error = err instanceof Error ? err : new Error(String(err));
      }
    }
  }
  return results;
}

function reloadKey(resource: TemplateResource): string {
  return substituteVars(resource.reloadCmd ?? '', { src: resource.dest, dest: resource.dest });
}
