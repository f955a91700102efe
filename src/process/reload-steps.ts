import { CommandError, errorMessage, toError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { CommandRun, FailureReason } from '../events/events.js';
import type { Logger } from '../logging/logger.js';
import type { TemplateResource, VerifyStep } from '../resources/template-resource.js';
import { runNativeReload, runVerify } from '../sync/native-steps.js';
import { restorePrevious } from '../sync/restore.js';
import type { CommandResult } from '../sync/run-command.js';
import { runCommand, substituteVars } from '../sync/run-command.js';
import { failureReason } from './failure-reason.js';
import type { ResourceResult } from './sync-resource.js';
import { monotonicMs } from '../monotonic-ms.js';

export interface ReloadContext {
  logger: Logger;
  events: EventBus;
  cancel?: AbortSignal;
  /** Reloads (by key) that failed in an earlier batch: they run again even for files now in sync. */
  pendingReloads?: Set<string>;
}

/**
 * The identity of a resource's reload: the substituted reload_cmd, the URL of an HTTP reload, or the
 * signal and pid file of a signal reload. Resources with the same key reload once per batch.
 */
export function reloadKey(resource: TemplateResource): string | undefined {
  if (resource.reloadCmd)
    return `cmd:${substituteVars(resource.reloadCmd, { src: resource.dest, dest: resource.dest })}`;
  const step = resource.nativeReload;
  if (step?.kind === 'http') return `http:${step.method} ${step.url}`;
  if (step?.kind === 'signal') return `signal:${step.signal} ${step.pidFile}`;
  return undefined;
}

/**
 * After the syncs of a batch: each distinct reload of the resources that changed runs once, then the
 * verifications of those resources (once per distinct one). When either fails, every resource of the group
 * with `rollback = true` gets its previous file back (byte for byte, same mode), the reload runs again so
 * the consumer takes it, and the group's resources are failed with reason `reload` or `verify`.
 */
export async function runReloads(results: readonly ResourceResult[], ctx: ReloadContext): Promise<void> {
  const groups = new Map<string, ResourceResult[]>();
  for (const result of results) {
    const { resource } = result.loaded;
    // A verify without a reload (a consumer that watches its file) still runs after the swap.
    const key =
      reloadKey(resource) ?? (resource.verify ? `verify:${JSON.stringify(resource.verify)}` : undefined);
    if (key === undefined) continue;
    const needed =
      result.outcome === 'updated' || (result.outcome === 'in_sync' && ctx.pendingReloads?.has(key) === true);
    if (needed) groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  for (const [key, group] of groups) await reloadGroup(key, group, ctx);
}

async function reloadGroup(key: string, group: ResourceResult[], ctx: ReloadContext): Promise<void> {
  const refs = group.map((r) => r.loaded.ref);
  const resource = group[0]!.loaded.resource;
  const hasReload = reloadKey(resource) !== undefined;
  const reloaded = hasReload ? await step(ctx, refs, 'reload', () => reload(resource, ctx)) : {};
  let failure: { error: Error; reason: FailureReason } | undefined = reloaded.failure;
  if (!failure) {
    ctx.pendingReloads?.delete(key);
    for (const [verify, dest] of distinctVerifications(group)) {
      const verified = await step(ctx, refs, 'verify', () => runVerify(verify, dest, ctx.logger, ctx.cancel));
      failure = verified.failure;
      if (failure) break;
    }
  } else {
    ctx.pendingReloads?.add(key);
  }
  if (!failure) return;
  const rolledBack = await rollBack(group, ctx);
  if (rolledBack.length > 0 && hasReload) {
    const again = await step(ctx, refs, 'reload', () => reload(resource, ctx), {
      afterRollback: true,
      rolledBack,
    });
    if (again.failure) ctx.pendingReloads?.add(key);
    else ctx.pendingReloads?.delete(key);
  }
  for (const result of group) {
    result.outcome = 'failed';
    result.error = failure.error;
    result.reason = failure.reason;
    result.event = { ...result.event, outcome: 'failed', error: failure.error, reason: failure.reason };
  }
}

function reload(resource: TemplateResource, ctx: ReloadContext): Promise<CommandResult> {
  if (resource.nativeReload) return runNativeReload(resource.nativeReload, ctx.logger, ctx.cancel);
  return runCommand(
    resource.reloadCmd ?? '',
    // After the rename the staged file *is* dest, so both names point at the new content.
    { src: resource.dest, dest: resource.dest },
    resource.reloadCmdTimeoutMs,
    ctx.logger,
    'reload',
    ctx.cancel,
  );
}

/** Runs one reload or verify and reports it; resolves with its failure, if any. */
async function step(
  ctx: ReloadContext,
  resources: ResourceResult['loaded']['ref'][],
  kind: 'reload' | 'verify',
  run: () => Promise<CommandResult>,
  extra: { afterRollback?: boolean; rolledBack?: ResourceResult['loaded']['ref'][] } = {},
): Promise<{ failure?: { error: Error; reason: FailureReason } }> {
  const started = monotonicMs();
  try {
    const result = await run();
    ctx.events.emit({ type: 'reload', step: kind, resources, ok: true, run: result, ...extra });
    return {};
  } catch (err) {
    const error = toError(err);
    ctx.events.emit({
      type: 'reload',
      step: kind,
      resources,
      ok: false,
      run: commandRun(err, started),
      error,
      ...extra,
    });
    return { failure: { error, reason: failureReason(err, kind) } };
  }
}

/** Each distinct verification of the group, with the dest of the first resource that asks for it. */
function distinctVerifications(group: readonly ResourceResult[]): [VerifyStep, string][] {
  const seen = new Map<string, [VerifyStep, string]>();
  for (const { loaded } of group) {
    const verify = loaded.resource.verify;
    if (!verify) continue;
    const key = JSON.stringify(verify);
    if (!seen.has(key)) seen.set(key, [verify, loaded.resource.dest]);
  }
  return [...seen.values()];
}

/** Restores the previous file of every resource in the group that asks for rollback and was written. */
async function rollBack(group: readonly ResourceResult[], ctx: ReloadContext) {
  const done: ResourceResult['loaded']['ref'][] = [];
  for (const result of group) {
    if (!result.loaded.resource.rollback || !result.previous) continue;
    const { dest } = result.loaded.resource;
    try {
      await restorePrevious(dest, result.previous.state, ctx.logger);
      done.push(result.loaded.ref);
      ctx.logger.warn(
        result.previous.state
          ? `${dest}: rolled back to the previous content`
          : `${dest}: rolled back (it did not exist before, so it was removed)`,
        { dest, resource: result.loaded.id },
      );
    } catch (err) {
      ctx.logger.error(`${dest}: rollback failed: ${errorMessage(err)}`, {
        dest,
        resource: result.loaded.id,
      });
    }
  }
  return done;
}

function commandRun(err: unknown, started: number): CommandRun {
  if (!(err instanceof CommandError)) return { durationMs: monotonicMs() - started };
  return {
    durationMs: err.durationMs,
    timedOut: err.timedOut,
    ...(err.exitCode === undefined ? {} : { exitCode: err.exitCode }),
  };
}
