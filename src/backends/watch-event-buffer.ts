import { cleanKey, keyIsUnder } from '../key-path.js';
import type { WatchResult } from './store-client.js';

/** One change a long-lived watch saw. `key` undefined: anything under the prefix may have changed. */
export interface WatchChange {
  index: number;
  key: string | undefined;
}

/** Enough for bursts between two waits; a waiter that falls further behind is told to re-read everything. */
export const MAX_BUFFERED_CHANGES = 10_000;

interface Waiter {
  wake(): void;
  fail(err: unknown): void;
}

const anyKey = (): boolean => true;

/**
 * The changes one long-lived watch has seen, by index, and the callers waiting on them. Because the watch
 * outlives every wait and everything it sees is kept, a caller coming back with the index it last got is
 * told about every change after it, however long it was away (up to MAX_BUFFERED_CHANGES).
 *
 * The index is the store's own (an etcd revision) or, for a store without one, nextChangeIndex().
 */
export class WatchEventBuffer {
  private changes: WatchChange[] = [];
  /** Every change with an index above this is in `changes`; what came before is unknown. */
  private floor: number;
  private latestIndex: number;
  private failure: Error | undefined;
  private readonly waiters = new Set<Waiter>();

  constructor(
    startIndex: number,
    private readonly capacity = MAX_BUFFERED_CHANGES,
  ) {
    this.floor = startIndex;
    this.latestIndex = startIndex;
  }

  /** The highest index seen (the start index before any change). */
  get latest(): number {
    return this.latestIndex;
  }

  /** Adds changes in index order (several may share one index, e.g. one etcd transaction) and wakes waiters. */
  record(changes: readonly WatchChange[]): void {
    let added = false;
    for (const change of changes) {
      // Watches replay nothing twice, but an index going back would break every waiter's arithmetic.
      if (change.index < this.latestIndex) continue;
      this.changes.push(change);
      this.latestIndex = change.index;
      added = true;
    }
    if (!added) return;
    if (this.changes.length > this.capacity) this.trim();
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  /**
   * The watch behind the buffer stopped working: current waiters reject with `err`, and so does every
   * later wait with nothing to report, until `recover`. What was recorded is kept and still reported.
   */
  fail(err: unknown): void {
    this.failure = err instanceof Error ? err : new Error(String(err));
    for (const waiter of [...this.waiters]) waiter.fail(err);
  }

  /** The watch works again: waits block until the next change instead of rejecting. */
  recover(): void {
    this.failure = undefined;
  }

  /**
   * Resolves once a change with an index above `waitIndex` concerns a key `relevant` accepts (or with
   * changedKeys undefined when changes since `waitIndex` are unknown), at once if one is already here.
   * Aborting `signal` rejects with its reason.
   */
  wait(
    waitIndex: number,
    signal: AbortSignal,
    relevant: (key: string) => boolean = anyKey,
  ): Promise<WatchResult> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const ready = this.collect(waitIndex, relevant);
    if (ready) return Promise.resolve(ready);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<WatchResult>((resolve, reject) => {
      const done = (): void => {
        this.waiters.delete(waiter);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        wake: () => {
          const result = this.collect(waitIndex, relevant);
          if (!result) return;
          done();
          resolve(result);
        },
        fail: (err) => {
          done();
          reject(err);
        },
      };
      const onAbort = (): void => {
        done();
        reject(abortReason(signal));
      };
      this.waiters.add(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private collect(waitIndex: number, relevant: (key: string) => boolean): WatchResult | undefined {
    if (waitIndex < this.floor) return { index: this.latestIndex };
    const keys = new Set<string>();
    for (let i = this.firstAfter(waitIndex); i < this.changes.length; i++) {
      const key = this.changes[i]?.key;
      if (key === undefined) return { index: this.latestIndex };
      if (relevant(key)) keys.add(key);
    }
    return keys.size > 0 ? { index: this.latestIndex, changedKeys: [...keys].sort() } : undefined;
  }

  /** Position of the first change with an index above `index` (binary search: changes are in index order). */
  private firstAfter(index: number): number {
    let low = 0;
    let high = this.changes.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.changes[mid]?.index ?? Infinity) <= index) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Drops the older half, on an index boundary, and raises the floor past it. */
  private trim(): void {
    const cut = this.changes[Math.floor(this.changes.length / 2)]?.index ?? this.latestIndex;
    const keep = this.firstAfter(cut);
    this.changes = this.changes.slice(keep);
    this.floor = cut;
  }
}

/**
 * The filter for one waiter reading `keys`: a change to a key equal to or under one of them (a value it
 * reads), or above one (a subtree or a Redis hash replaced as a whole). Every change when `keys` is empty.
 */
export function concerning(keys: readonly string[]): (key: string) => boolean {
  const bases = keys.map(cleanKey);
  if (bases.length === 0) return anyKey;
  return (key) => bases.some((base) => keyIsUnder(key, base) || keyIsUnder(base, key));
}

let lastChangeIndex = 0;

/**
 * An index for a store that has none of its own (start index and changes alike). One counter for the whole
 * process: a buffer created later starts above every index an earlier one handed out, so a caller coming
 * with an index from a buffer that is gone is below the floor and told to re-read everything.
 */
export function nextChangeIndex(): number {
  lastChangeIndex += 1;
  return lastChangeIndex;
}

/** `keys` changed together, at the next counted index; undefined: anything may have changed. */
export function countedChanges(keys: readonly string[] | undefined): WatchChange[] {
  if (keys?.length === 0) return [];
  const index = nextChangeIndex();
  return keys === undefined ? [{ index, key: undefined }] : keys.map((key) => ({ index, key }));
}

/** What an aborted wait rejects with: the signal's reason, or a standard AbortError. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('The operation was aborted', 'AbortError');
}

/** Races `promise` against `signal`: the caller stops waiting, the work itself goes on (it is shared). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // Nobody waits for the work any more; a failure of it must not end the process as unhandled.
    promise.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
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
