/**
 * What happened, as data. The processors, the sync step and the store layer emit these into one
 * EventBus; logs, metrics and /status are subscribers. Nothing here knows who listens.
 */

/** Why a resource failed; the `reason` label of confd_template_failures_total. */
export type FailureReason =
  'store' | 'missing_key' | 'template' | 'check' | 'write' | 'reload' | 'guard' | 'verify' | 'timeout';

/** A resource as events name it: its identity is the TOML file that defines it. */
export interface ResourceRef {
  /** Absolute path of the resource's TOML file. */
  readonly id: string;
  readonly src: string;
  readonly dest: string;
  /** Store keys the resource reads (prefix joined). */
  readonly keys: readonly string[];
}

export type ResourceOutcome = 'updated' | 'in_sync' | 'would_update' | 'failed';

export interface CommandRun {
  /** Exit code when the command ran to its end; undefined when killed or it could not start. */
  exitCode?: number;
  durationMs: number;
  timedOut?: boolean;
}

/** One resource rendered and synced (or not). */
export interface ResourceEvent {
  type: 'resource';
  resource: ResourceRef;
  outcome: ResourceOutcome;
  /** From the start of the render to the end of the sync (reload excluded). */
  durationMs: number;
  /** Time spent rendering the template alone; undefined when it did not get that far. */
  renderMs?: number;
  /** Keys the template asked for that the store lacks (a default may have stood in). */
  missingKeys: readonly string[];
  /** The check_cmd run on the staged file, when one ran. */
  check?: CommandRun & { ok: boolean };
  /** -noop: the unified diff that would be applied. */
  diff?: string;
  /** The guard rule that refused the render, with its numbers (reason "guard"). */
  refusal?: string;
  reason?: FailureReason;
  error?: Error;
  /** A failed resource in a daemon: when it is tried again. */
  retryInMs?: number;
}

/**
 * A reload (reload_cmd or [template.reload]) run once for the resources of a batch that share it, or the
 * verification after it. A failed one lists the resources rolled back to their previous file.
 */
export interface ReloadEvent {
  type: 'reload';
  step: 'reload' | 'verify';
  resources: readonly ResourceRef[];
  ok: boolean;
  run: CommandRun;
  error?: Error;
  /** The reload that follows a rollback, to make the consumer take the restored file. */
  afterRollback?: boolean;
  rolledBack?: readonly ResourceRef[];
}

export type WatchState = 'armed' | 'fired' | 'failed' | 'released';

/** A store watch on one prefix changed state. */
export interface WatchEvent {
  type: 'watch';
  prefix: string;
  state: WatchState;
  /** The store index the watch is at (armed at, or reported by the change). */
  index?: number;
  /** fired: how many keys changed; undefined when the store could not say. */
  changedKeys?: number;
  /** fired: resources the change affects. */
  resources?: number;
  error?: Error;
  retryInMs?: number;
}

export type StoreOp = 'connect' | 'read' | 'watch' | 'ping';

/** One request to the store. */
export interface StoreEvent {
  type: 'store';
  backend: string;
  op: StoreOp;
  ok: boolean;
  durationMs: number;
  error?: Error;
  retryInMs?: number;
}

/** conf.d was loaded (at start) or reloaded. */
export interface ConfigEvent {
  type: 'config';
  trigger: 'start' | 'signal' | 'files' | 'interval';
  /** The conf.d directory read. */
  source: string;
  ok: boolean;
  /** The resources running after the event. */
  resources: readonly ResourceRef[];
  added: readonly string[];
  removed: readonly string[];
  changed: readonly string[];
  /** Files that failed to load (at start they fail alone; on reload they reject the reload). */
  errors: readonly Error[];
  /** Why a reload was rejected. */
  error?: Error;
}

/** A batch of resources ended: what a log line summarises. */
export interface BatchEvent {
  type: 'batch';
  mode: 'onetime' | 'interval' | 'watch';
  counts: Readonly<Record<ResourceOutcome, number>>;
  /** conf.d files that could not be loaded, counted as failures in the summary. */
  loadFailures: number;
  first: boolean;
}

export type ConfdEvent = ResourceEvent | ReloadEvent | WatchEvent | StoreEvent | ConfigEvent | BatchEvent;

export type ConfdEventType = ConfdEvent['type'];
