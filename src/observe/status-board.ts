import { errorMessage } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { CommandRun, ConfdEvent, ResourceRef, WatchState } from '../events/events.js';
import { keyIsUnder } from '../key-path.js';

/** What /status says about the process itself. Nodes come without credentials. */
export interface ProcessInfo {
  version: string;
  backend: string;
  nodes: readonly string[];
  mode: 'watch' | 'interval' | 'onetime';
  startTime: Date;
}

interface CommandStatus {
  exit_code: number | null;
  duration_ms: number;
  time: string;
  error?: string;
}

interface ResourceState {
  ref: ResourceRef;
  lastAttempt?: Date;
  lastSuccess?: Date;
  lastChange?: Date;
  lastError?: string;
  missingKeys: readonly string[];
  check?: CommandStatus;
  reload?: CommandStatus;
}

interface WatchStatus {
  state: WatchState;
  index?: number;
  error?: string;
  time: Date;
}

interface StoreStatus {
  up: boolean | undefined;
  lastError?: string;
  lastChecked?: Date;
}

export interface Readiness {
  ready: boolean;
  reasons: { resource?: string; error: string }[];
}

/**
 * The state /status, /readyz and the watch-state metrics show, kept from the event stream alone: per
 * resource its last attempt, success, change and error, the keys it missed, its last check and reload;
 * per watched prefix its state and index; the store's health; the last configuration load. Secrets never
 * reach it (events carry none) and messages pass the same masking as log lines before they are shown.
 */
export class StatusBoard {
  private readonly resources = new Map<string, ResourceState>();
  private readonly watches = new Map<string, WatchStatus>();
  private readonly store: StoreStatus = { up: undefined };
  private config: { ok: boolean; time: Date; error?: string } | undefined;

  constructor(
    events: EventBus,
    private readonly info: ProcessInfo,
    private readonly mask: (text: string) => string = (text) => text,
    private readonly now: () => Date = () => new Date(),
  ) {
    events.subscribe((event) => this.apply(event));
  }

  /** Ready once the store answers and every resource synced at least once since start. */
  readiness(): Readiness {
    const reasons: Readiness['reasons'] = [];
    if (this.store.up !== true)
      reasons.push({ error: this.store.lastError ?? 'the store has not answered yet' });
    if (!this.config) reasons.push({ error: 'the configuration is not loaded yet' });
    for (const state of this.resources.values()) {
      if (state.lastSuccess) continue;
      reasons.push({ resource: state.ref.id, error: state.lastError ?? 'not synced yet' });
    }
    return { ready: reasons.length === 0, reasons };
  }

  get storeUp(): boolean {
    return this.store.up === true;
  }

  snapshot(): Record<string, unknown> {
    const iso = (date: Date | undefined) => date?.toISOString() ?? null;
    return {
      process: {
        version: this.info.version,
        backend: this.info.backend,
        nodes: this.info.nodes,
        mode: this.info.mode,
        start_time: this.info.startTime.toISOString(),
        pid: process.pid,
      },
      store: {
        up: this.store.up ?? null,
        last_error: this.store.lastError ?? null,
        last_checked: iso(this.store.lastChecked),
      },
      config: this.config
        ? {
            last_load_successful: this.config.ok,
            time: this.config.time.toISOString(),
            error: this.config.error ?? null,
          }
        : null,
      resources: [...this.resources.values()].map((state) => ({
        toml: state.ref.id,
        src: state.ref.src,
        dest: state.ref.dest,
        keys: state.ref.keys,
        last_attempt: iso(state.lastAttempt),
        last_success: iso(state.lastSuccess),
        last_change: iso(state.lastChange),
        last_error: state.lastError ?? null,
        missing_keys: state.missingKeys,
        check: state.check ?? null,
        reload: state.reload ?? null,
        watch: this.watchOf(state.ref),
      })),
    };
  }

  private watchOf(ref: ResourceRef): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const [prefix, watch] of this.watches) {
      if (!ref.keys.some((key) => keyIsUnder(key, prefix))) continue;
      out.push({
        prefix,
        state: watch.state,
        index: watch.index ?? null,
        since: watch.time.toISOString(),
        ...(watch.error ? { error: watch.error } : {}),
      });
    }
    return out;
  }

  private apply(event: ConfdEvent): void {
    const now = this.now();
    switch (event.type) {
      case 'config': {
        if (event.ok) {
          const keep = new Set(event.resources.map((ref) => ref.id));
          for (const id of this.resources.keys()) if (!keep.has(id)) this.resources.delete(id);
          for (const ref of event.resources) {
            const state = this.resources.get(ref.id);
            if (state) state.ref = ref;
            else this.resources.set(ref.id, { ref, missingKeys: [] });
          }
        }
        this.config = {
          ok: event.ok,
          time: now,
          ...(event.error ? { error: this.message(event.error) } : {}),
        };
        return;
      }
      case 'resource': {
        const state = this.resources.get(event.resource.id) ?? { ref: event.resource, missingKeys: [] };
        this.resources.set(event.resource.id, state);
        state.lastAttempt = now;
        state.missingKeys = event.missingKeys;
        if (event.check) state.check = commandStatus(event.check, now);
        if (event.outcome === 'failed') {
          state.lastError = this.message(event.error);
        } else {
          state.lastSuccess = now;
          delete state.lastError;
          if (event.outcome === 'updated') state.lastChange = now;
        }
        return;
      }
      case 'reload':
        if (event.step !== 'reload') return;
        for (const ref of event.resources) {
          const state = this.resources.get(ref.id);
          if (state)
            state.reload = {
              ...commandStatus({ ...event.run, ok: event.ok }, now),
              ...(event.error ? { error: this.message(event.error) } : {}),
            };
        }
        return;
      case 'watch': {
        if (event.state === 'released') {
          this.watches.delete(event.prefix);
          return;
        }
        const previous = this.watches.get(event.prefix);
        const index = event.index ?? previous?.index;
        this.watches.set(event.prefix, {
          state: event.state === 'fired' ? 'armed' : event.state,
          time: now,
          ...(index === undefined ? {} : { index }),
          ...(event.error ? { error: this.message(event.error) } : {}),
        });
        if (event.state === 'failed') this.markStoreDown(event.error, now);
        else this.markStoreUp(now);
        return;
      }
      case 'store':
        if (event.ok) this.markStoreUp(now);
        else this.markStoreDown(event.error, now);
        return;
      case 'batch':
        return;
    }
  }

  private markStoreUp(now: Date): void {
    this.store.up = true;
    this.store.lastChecked = now;
    delete this.store.lastError;
  }

  private markStoreDown(error: Error | undefined, now: Date): void {
    this.store.up = false;
    this.store.lastChecked = now;
    this.store.lastError = this.message(error);
  }

  private message(error: unknown): string {
    return this.mask(errorMessage(error));
  }
}

function commandStatus(run: CommandRun & { ok: boolean }, time: Date): CommandStatus {
  return {
    exit_code: run.exitCode ?? null,
    duration_ms: Math.round(run.durationMs),
    time: time.toISOString(),
  };
}
