import { keyIsUnder } from '../key-path.js';
import type { KVPairs, WatchResult } from './store-client.js';

/** Keys created, updated or deleted between two flattened snapshots, sorted. */
export function changedKeys(before: KVPairs, after: KVPairs): string[] {
  const changed: string[] = [];
  for (const [key, value] of Object.entries(after)) if (before[key] !== value) changed.push(key);
  for (const key of Object.keys(before)) if (!(key in after)) changed.push(key);
  return changed.sort();
}

interface ChangeEvent {
  index: number;
  /** undefined: anything may have changed. */
  keys: readonly string[] | undefined;
}

interface Waiter {
  prefix: string;
  since: number;
  resolve: (result: WatchResult) => void;
  reject: (err: unknown) => void;
}

/** Old events are dropped past this many; a caller further behind is told "anything may have changed". */
const RETAINED_EVENTS = 1024;

/**
 * The file backend's change history, numbered by a monotonic index. Callers ask for the changes under a
 * prefix after the index they last saw; changes recorded while nobody waited are kept, so there is no gap
 * between two waits.
 */
export class ChangeLog {
  private current = 1;
  private readonly events: ChangeEvent[] = [];
  private readonly waiters = new Set<Waiter>();

  get index(): number {
    return this.current;
  }

  record(keys: readonly string[] | undefined): void {
    if (keys !== undefined && keys.length === 0) return;
    this.current += 1;
    this.events.push({ index: this.current, keys });
    if (this.events.length > RETAINED_EVENTS) this.events.shift();
    for (const waiter of [...this.waiters]) {
      const result = this.since(waiter.prefix, waiter.since);
      if (result) {
        this.waiters.delete(waiter);
        waiter.resolve(result);
      }
    }
  }

  /** Resolves with the changes under `prefix` after `since`: at once when there are some, else on the next one. */
  wait(prefix: string, since: number, signal: AbortSignal): Promise<WatchResult> {
    signal.throwIfAborted();
    const ready = this.since(prefix, since);
    if (ready) return Promise.resolve(ready);
    return new Promise<WatchResult>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(waiter);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        prefix,
        since,
        resolve: (result) => {
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.waiters.add(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Rejects every pending wait (the watch broke or the client closed); later waits are unaffected. */
  failWaiters(err: unknown): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter.reject(err);
  }

  private since(prefix: string, since: number): WatchResult | undefined {
    if (since >= this.current) return undefined;
    const oldest = this.events[0]?.index ?? this.current + 1;
    // Events after `since` were dropped: say so rather than report a partial list.
    if (since < oldest - 1) return { index: this.current };
    const keys = new Set<string>();
    for (const event of this.events) {
      if (event.index <= since) continue;
      if (event.keys === undefined) return { index: this.current };
      for (const key of event.keys) if (keyIsUnder(key, prefix)) keys.add(key);
    }
    return keys.size === 0 ? undefined : { index: this.current, changedKeys: [...keys].sort() };
  }
}
