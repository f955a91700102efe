import {
  BackendError,
  CommandError,
  ConfigError,
  GuardError,
  RequestTimeoutError,
  SyncError,
  TemplateError,
} from '../errors.js';
import type { FailureReason } from '../events/events.js';
import { KeyNotFoundError } from '../template/kv-store.js';

/** Why a resource failed, as the `reason` label of confd_template_failures_total counts it. */
export function failureReason(err: unknown, stage: 'sync' | 'reload' | 'verify' = 'sync'): FailureReason {
  if (err instanceof GuardError) return 'guard';
  if (err instanceof CommandError) return err.timedOut ? 'timeout' : stage === 'sync' ? 'check' : stage;
  if (err instanceof RequestTimeoutError) return 'timeout';
  if (err instanceof BackendError) return 'store';
  if (err instanceof TemplateError) return causedBy(err, KeyNotFoundError) ? 'missing_key' : 'template';
  if (err instanceof SyncError) return 'write';
  if (err instanceof ConfigError) return 'template';
  if (err instanceof Error && err.name === 'AbortError') return 'timeout';
  return stage === 'sync' ? 'write' : stage;
}

function causedBy(err: Error, type: abstract new (...args: never[]) => Error): boolean {
  let cause: unknown = err;
  for (let depth = 0; depth < 10 && cause instanceof Error; depth++) {
    if (cause instanceof type) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}
