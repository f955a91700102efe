import type { StoreClient } from '../backends/store-client.js';
import { errorMessage } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { KeyIndex } from '../key-index.js';
import type { Logger } from '../logging/logger.js';
import { failureReason } from './failure-reason.js';
import type { DestState } from '../sync/dest-state.js';
import { readDestState } from '../sync/dest-state.js';
import { runReloads } from './reload-steps.js';
import type { LoadedResource } from './load-config.js';
import type { ResourceResult, SyncContext, SyncModes } from './sync-resource.js';
import { syncResource } from './sync-resource.js';

/**
 * Resources rendered and synced at once; each still waits for the others sharing its dest. Writing a file
 * is mostly waiting on the disk (create, fsync, rename), so many run together: 100 files on one prefix
 * then share journal commits instead of queueing fsync behind fsync (bin/confd gives libuv 16 threads
 * for them). More than 32 showed no gain and costs memory (every render in flight is held at once).
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
  const ahead = readDestsAhead(resources);
  const snapshot = await readSnapshot(resources, ctx);
  const results = new Map<LoadedResource, ResourceResult>();
  if (snapshot instanceof Error) {
    for (const loaded of resources) results.set(loaded, storeFailure(loaded, snapshot));
  } else {
    await forEachByDest(resources, async (loaded) => {
      if (ctx.signal?.aborted || ctx.cancel?.aborted) return;
      results.set(loaded, await syncResource(loaded, snapshot, ctx, ahead.get(loaded)));
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

/**
 * Starts reading the dests of the first resources to run while the store read is under way: the file
 * reads then cost no time of their own on the way from a change to the rename. Only as many as run at
 * once (BATCH_CONCURRENCY): a batch of 2,000 resources must not hold 2,000 descriptors open at a time
 * (EMFILE) nor every file's content in memory; the later ones read their dest when their turn comes. Only
 * the first resource of each dest gets one; the others sharing it must see what the one before them
 * wrote. A read that fails is reported by the resource that awaits it (or by nobody when the store read
 * failed).
 */
function readDestsAhead(
  resources: readonly LoadedResource[],
): Map<LoadedResource, Promise<DestState | undefined>> {
  const ahead = new Map<LoadedResource, Promise<DestState | undefined>>();
  const seen = new Set<string>();
  for (const loaded of resources) {
    const { dest } = loaded.resource;
    if (ahead.size === BATCH_CONCURRENCY) break;
    if (seen.has(dest)) continue;
    seen.add(dest);
    const state = readDestState(dest);
    state.catch(() => undefined);
    ahead.set(loaded, state);
  }
  return ahead;
}

async function readSnapshot(
  resources: readonly LoadedResource[],
  ctx: BatchContext,
): Promise<KeyIndex | Error> {
  const keys = [...new Set(resources.flatMap((loaded) => loaded.keys))].sort();
  try {
    return new KeyIndex(await ctx.store.getValues(keys, ctx.cancel ? { signal: ctx.cancel } : {}));
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
