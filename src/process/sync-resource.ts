import type { KeyIndex } from '../key-index.js';
import { joinKey } from '../key-path.js';
import { CommandError, GuardError } from '../errors.js';
import type { DestState } from '../sync/dest-state.js';
import type { FailureReason, ResourceEvent, ResourceOutcome } from '../events/events.js';
import type { Logger } from '../logging/logger.js';
import { syncFile } from '../sync/sync-file.js';
import { KVStore } from '../template/kv-store.js';
import { failureReason } from './failure-reason.js';
import type { LoadedResource } from './load-config.js';
import { monotonicMs } from '../monotonic-ms.js';

export interface SyncModes {
  noop: boolean;
  syncOnly: boolean;
  keepStageFile: boolean;
}

export interface ResourceResult {
  loaded: LoadedResource;
  outcome: ResourceOutcome;
  /** Written: what dest held before (state undefined: it did not exist), for a rollback. */
  previous?: { state: DestState | undefined };
  error?: Error;
  reason?: FailureReason;
  /** What the event stream is told; the batch completes it (reload failures, retry delay). */
  event: ResourceEvent;
}

export interface SyncContext {
  modes: SyncModes;
  logger: Logger;
  /** Aborting kills a running check_cmd with its process group (the shutdown timeout ran out). */
  cancel?: AbortSignal;
  /** Deadline of each DNS lookup a template makes (-request-timeout). */
  lookupTimeoutMs?: number;
}

/**
 * Renders one resource from a snapshot of the store (indexed once per batch) and syncs its destination. Never throws: a failure is
 * a result with its reason. The reload is the batch's business (it runs once for resources sharing it).
 */
export async function syncResource(
  loaded: LoadedResource,
  snapshot: KeyIndex,
  ctx: SyncContext,
): Promise<ResourceResult> {
  const { resource } = loaded;
  const started = monotonicMs();
  const store = new KVStore(snapshot.visiblePairs(resource.prefix, loaded.keys));
  let renderMs: number | undefined;
  const result = (outcome: ResourceOutcome, extra: Partial<ResourceEvent> = {}): ResourceResult => {
    const event: ResourceEvent = {
      type: 'resource',
      resource: loaded.ref,
      outcome,
      durationMs: monotonicMs() - started,
      // As the store names them: the template saw them relative to the resource prefix.
      missingKeys: store.missingKeys().map((key) => joinKey(resource.prefix, key)),
      ...(renderMs === undefined ? {} : { renderMs }),
      ...extra,
    };
    return {
      loaded,
      outcome,
      event,
      ...(event.error ? { error: event.error } : {}),
      ...(event.reason ? { reason: event.reason } : {}),
    };
  };
  try {
    const content = await loaded.template.render(
      store,
      ctx.lookupTimeoutMs === undefined ? {} : { lookupTimeoutMs: ctx.lookupTimeoutMs },
    );
    renderMs = monotonicMs() - started;
    const { guard } = resource;
    const outcome = await syncFile(
      {
        dest: resource.dest,
        content,
        mode: resource.mode,
        uid: resource.uid,
        gid: resource.gid,
        checkCmd: resource.checkCmd,
        checkCmdTimeoutMs: resource.checkCmdTimeoutMs,
        noop: ctx.modes.noop,
        syncOnly: ctx.modes.syncOnly,
        keepStageFile: ctx.modes.keepStageFile,
        ...(ctx.cancel ? { signal: ctx.cancel } : {}),
        ...(guard
          ? { guard: { rules: guard, missingRequired: missingRequired(guard.requiredKeys, snapshot) } }
          : {}),
        ...(resource.backup ? { backups: resource.backup } : {}),
      },
      ctx.logger,
    );
    switch (outcome.status) {
      case 'in-sync':
        return result('in_sync');
      case 'would-update': {
        if (outcome.refusal === undefined) return result('would_update', { diff: outcome.diff });
        // -noop in CI: the diff is shown, and a render the guard would refuse fails the run.
        const error = new GuardError(resource.dest, outcome.refusal);
        return result('failed', { diff: outcome.diff, refusal: outcome.refusal, error, reason: 'guard' });
      }
      case 'updated': {
        const run = outcome.checkResult;
        const written = result('updated', run ? { check: { ...run, ok: true } } : {});
        return { ...written, previous: { state: outcome.previous } };
      }
    }
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    const check =
      err instanceof CommandError
        ? {
            check: {
              ok: false,
              durationMs: err.durationMs,
              timedOut: err.timedOut,
              ...(err.exitCode === undefined ? {} : { exitCode: err.exitCode }),
            },
          }
        : {};
    const refusal = err instanceof GuardError ? { refusal: err.refusal } : {};
    return result('failed', { error, reason: failureReason(err), ...check, ...refusal });
  }
}

/** Required keys with nothing at or under them in the snapshot. */
function missingRequired(required: readonly string[], snapshot: KeyIndex): string[] {
  return required.filter((base) => !snapshot.hasAnyUnder(base));
}
