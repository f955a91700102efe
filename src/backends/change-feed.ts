import type { WatchResult } from './store-client.js';

interface Change {
  index: number;
  /** undefined: anything may have changed (resync). */
  keys: readonly string[] | undefined;
}

interface Waiter {
  after: number;
  resolve(result: WatchResult): void;
  reject(err: unknown): void;
}

/** How many changes a feed remembers; a caller further behind is told to re-read everything. */
const RETAINED_CHANGES = 1024;

/**
 * The changes one long-lived watch has seen, numbered by a counter that only grows, and the callers
 * waiting for the next one. Changes are kept after they are reported, so a caller that comes back with
 * the index it was given gets everything that happened in between, and any number of callers share one
 * underlying store watch.
 */
export class ChangeFeed {
  /** Starts at 1: 0 means "no index yet" to callers. */
  private index = 1;
  private readonly changes: Change[] = [];
  private readonly waiters = new Set<Waiter>();
  private failure: unknown;

  get current(): number {
    return this.index;
  }

  /** Records one change (empty `keys`: nothing to report) and wakes every waiter. */
  record(keys: Iterable<string> | undefined): void {
    const list = keys === undefined ? undefined : [...new Set(keys)].sort();
    if (list?.length === 0) return;
    this.index += 1;
    this.changes.push({ index: this.index, keys: list });
    if (this.changes.length > RETAINED_CHANGES) this.changes.shift();
    for (const waiter of [...this.waiters]) waiter.resolve(this.since(waiter.after));
  }

  /**
   * The watch behind the feed stopped working: current waiters reject with `err`, and so do callers that
   * are up to date, until `recover`. Callers with unseen changes still get them.
   */
  fail(err: unknown): void {
    this.failure = err;
    for (const waiter of [...this.waiters]) waiter.reject(err);
  }

  recover(): void {
    this.failure = undefined;
  }

  /** Resolves with the changes after index `after` (> 0) as soon as there are any. */
  wait(after: number, signal: AbortSignal): Promise<WatchResult> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    if (after !== this.index) return Promise.resolve(this.since(after));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<WatchResult>((resolve, reject) => {
      const onAbort = (): void => waiter.reject(abortReason(signal));
      const done = (): void => {
        this.waiters.delete(waiter);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        after,
        resolve: (result) => {
          done();
          resolve(result);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      this.waiters.add(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Everything after `after`, merged. An index this feed never handed out (from the future, or older than
   * what it remembers) cannot be answered precisely: the caller is told to re-read everything.
   */
  private since(after: number): WatchResult {
    const first = this.changes[0];
    if (after <= 0 || after > this.index || !first || first.index > after + 1) {
      return { index: this.index, changedKeys: undefined };
    }
    const keys = new Set<string>();
    for (const change of this.changes) {
      if (change.index <= after) continue;
      if (change.keys === undefined) return { index: this.index, changedKeys: undefined };
      for (const key of change.keys) keys.add(key);
    }
    return { index: this.index, changedKeys: [...keys].sort() };
  }
}

/** What an aborted wait rejects with: the signal's reason, or a standard AbortError. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** Races `promise` against `signal`: rejects with the abort reason as soon as it is aborted. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
