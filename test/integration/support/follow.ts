import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { PrefixWatch, StoreClient, WatchResult } from '../../../src/backends/store-client.js';
import { BackendError } from '../../../src/errors.js';

export interface Followed {
  /** Every answer of the watch, in order. */
  seen: WatchResult[];
  /** Every value of the key read on the way, in order (undefined: missing): what would have been rendered. */
  values: (string | undefined)[];
  /** BackendErrors the watch failed with; each was followed by a release and a fresh arm. */
  failures: BackendError[];
  /** BackendErrors of reads and arms made while the store was away. */
  retried: BackendError[];
  /** The watch in use at the end (a fresh one after a failure), still held: release it or close the client. */
  watch: PrefixWatch;
  /** The index to wait from on `watch`: its last answer's, or the one it was armed at. */
  index: number;
}

/** Between two attempts while the store is away; a retry pace, as the processor's backoff. */
const RETRY_PAUSE_MS = 100;

/**
 * Follows `watch` the way the watch processor does: read `key`, wait for the next change after the index
 * of the last answer, read again, until the key holds `wanted`. When the watch fails (a BackendError), it is
 * released and a fresh one armed on the same prefix, retried while the store is away, and the key is read
 * again: a watch source is single-use, recovery is the holder's. Any other error ends the follow.
 */
export async function follow(
  client: StoreClient,
  watch: PrefixWatch,
  key: string,
  wanted: string,
): Promise<Followed> {
  const followed: Followed = { seen: [], values: [], failures: [], retried: [], watch, index: watch.index };
  const signal = new AbortController().signal;
  for (;;) {
    const value = await retrying(followed, () => client.getValues([key]));
    followed.values.push(value.get(key));
    if (value.get(key) === wanted) return followed;
    try {
      const result = await followed.watch.next(followed.index, [key], { signal });
      expect(result.index).to.be.greaterThan(followed.index);
      followed.seen.push(result);
      followed.index = result.index;
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
      followed.failures.push(err);
      followed.watch.release();
      followed.watch = await retrying(followed, () => client.watch(watch.prefix));
      followed.index = followed.watch.index;
    }
  }
}

async function retrying<T>(followed: Followed, attempt: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
      followed.retried.push(err);
      await sleep(RETRY_PAUSE_MS);
    }
  }
}

/**
 * `values` in the order they were written, without repeats: what a follower may see of a sequence of
 * writes (it may skip some, never go back, never see one that was not written).
 */
export function expectInWriteOrder(
  values: readonly (string | undefined)[],
  written: readonly string[],
): void {
  let at = -1;
  for (const value of values) {
    if (value === undefined) continue;
    const position = written.lastIndexOf(value);
    expect(position, `${value} was read but never written`).to.be.at.least(0);
    expect(position, `${value} was read after a later write`).to.be.at.least(at);
    at = position;
  }
}

export interface Writer {
  /** The values written successfully, in order. */
  readonly written: string[];
  /** Stops writing; resolves once the write in flight has ended. */
  stop(): Promise<void>;
}

/**
 * Keeps writing w0, w1, ... with `write` until stopped. A failed write (the store is away) is not counted
 * and the next one is tried after a short pause.
 */
export function keepWriting(write: (value: string) => Promise<unknown>): Writer {
  const written: string[] = [];
  let writing = true;
  const done = (async () => {
    for (let i = 0; writing; i += 1) {
      const value = `w${i}`;
      try {
        await write(value);
        written.push(value);
      } catch {
        await sleep(RETRY_PAUSE_MS / 2);
      }
    }
  })();
  return {
    written,
    stop: async () => {
      writing = false;
      await done;
    },
  };
}
