import type { StoreClient } from '../backends/store-client.js';
import { errorMessage } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { KeyIndex } from '../key-index.js';
import type { Logger } from '../logging/logger.js';
import { failureReason } from './failure-reason.js';
import { runReloads } from './reload-steps.js';
import type { LoadedResource } from './load-config.js';
import type { ResourceResult, SyncContext, SyncModes } from './sync-resource.js';
import { syncResource } from './sync-resource.js';

/**
 * Resources rendered and synced at once; each still waits for the others sharing its dest. Writing a file
 * is mostly waiting on the disk (create, fsync, rename), so many run together: 100 files on one prefix
 * then share journal commits instead of queueing fsync behind fsync (libuv runs 4 calls at a time; a
 * larger UV_THREADPOOL_SIZE measured no faster for 100 files). More than 32 showed no gain and costs
 * memory (every render in flight is held at once).
 * check_cmd runs stay bounded by run-command.ts's COMMAND_CONCURRENCY whatever this is.
 */
export const BATCH_CONCURRENCY = 32;

export interface BatchContext extends Pick<SyncContext, 'lookupTimeoutMs'> {
  store: StoreClient;
  modes: SyncModes;
  logger: Logger;
  events: EventBus;
  /**
   * Once aborted, no further resource is started: a daemon asked to stop must not sit through every
   * remaining check and reload. Resources already written still get their reload, so no new file is left
   * without it.
   */
  signal?: AbortSignal;
  /**
   * Aborting cuts the work in flight short (the shutdown timeout ran out): the store read is abandoned
   * and running check and reload commands are killed with their process group.
   */
  cancel?: AbortSignal;
  /**
   * Reload commands (after substitution) that failed in an earlier batch of the same daemon. Their files
   * are already written, so a retry finds them in sync; the reload must still run until it succeeds.
   */
  pendingReloads?: Set<string>;
  /** Read every key from the store itself, not from the copies watches keep (the safety-net resync). */
  freshRead?: boolean;
  /** Sees each final result before its event is emitted (a daemon adds the retry delay of a failure). */
  onResult?(result: ResourceResult): void;
}

/**
 * One batch: ONE read of the store for the keys of every resource in it (a snapshot they all render from),
 * then each resource rendered and synced, several at a time, and finally the reload commands of those
 * that changed. Resources that share a reload command (after {{.dest}} substitution) trigger it once per
 * batch: three nginx vhosts changing together mean one nginx reload. One failing resource never stops
 * the others. Resources writing the same dest run one after the other, in order.
 *
 * Every outcome goes into the event stream; the results are returned in the order given.
 */
export async function runBatch(
  resources: readonly LoadedResource[],
  ctx: BatchContext,
): Promise<ResourceResult[]> {
  if (resources.length === 0 || ctx.signal?.aborted) return [];
  const snapshot = await readSnapshot(resources, ctx);
  const results = new Map<LoadedResource, ResourceResult>();
  if (snapshot instanceof Error) {
    for (const loaded of resources) results.set(loaded, storeFailure(loaded, snapshot));
  } else {
    await forEachByDest(resources, async (loaded) => {
      if (ctx.signal?.aborted || ctx.cancel?.aborted) return;
      results.set(loaded, await syncResource(loaded, snapshot, ctx));
    });
  }
  const ordered = resources.flatMap((loaded) => results.get(loaded) ?? []);
  if (!ctx.modes.syncOnly && !ctx.modes.noop) await runReloads(ordered, ctx);
  for (const result of ordered) {
    ctx.onResult?.(result);
    ctx.events.emit(result.event);
  }
  return ordered;
}

async function readSnapshot(
  resources: readonly LoadedResource[],
  ctx: BatchContext,
): Promise<KeyIndex | Error> {
  const keys = [...new Set(resources.flatMap((loaded) => loaded.keys))].sort();
  try {
    return new KeyIndex(
      await ctx.store.getValues(keys, {
        ...(ctx.cancel ? { signal: ctx.cancel } : {}),
        ...(ctx.freshRead ? { fresh: true } : {}),
      }),
    );
  } catch (err) {
    return err instanceof Error ? err : new Error(errorMessage(err));
  }
}

function storeFailure(loaded: LoadedResource, error: Error): ResourceResult {
  const reason = failureReason(error);
  return {
    loaded,
    outcome: 'failed',
    error,
    reason,
    event: {
      type: 'resource',
      resource: loaded.ref,
      outcome: 'failed',
      durationMs: 0,
      missingKeys: [],
      error,
      reason,
    },
  };
}

/** Runs `work` over the resources, BATCH_CONCURRENCY at a time, never two with the same dest at once. */
async function forEachByDest(
  resources: readonly LoadedResource[],
  work: (loaded: LoadedResource) => Promise<void>,
): Promise<void> {
  const byDest = new Map<string, LoadedResource[]>();
  for (const loaded of resources) {
    const group = byDest.get(loaded.resource.dest) ?? [];
    group.push(loaded);
    byDest.set(loaded.resource.dest, group);
  }
  const groups = [...byDest.values()];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let group = groups[next++]; group; group = groups[next++]) {
      for (const loaded of group) await work(loaded);
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, groups.length) }, worker));
}
