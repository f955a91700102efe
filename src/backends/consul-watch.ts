import { errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { changedKeys } from './changed-keys.js';
import { entryValues, type ConsulEntry } from './consul-kv.js';
import type { KVPairs, WatchResult } from './store-client.js';
import { countedChanges, nextChangeIndex, untilAborted, WatchEventBuffer } from './watch-event-buffer.js';

/** A recursive read of the prefix and the X-Consul-Index it answered with. */
export interface ConsulListing {
  index: number;
  entries: ConsulEntry[];
}

/**
 * Reads the prefix recursively. `index` 0 answers at once; any other index makes it a blocking query that
 * answers when Consul's index passes it or the server-side wait runs out. Aborting `signal` cancels it.
 */
export type ListingReader = (index: number, signal: AbortSignal) => Promise<ConsulListing>;

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 15_000;
const UNINDEXED_POLL_MS = 1000;

/**
 * One blocking query loop on one prefix, shared by every caller watching it: there is never more than one
 * query in flight for the prefix, whatever the number of callers. Each answer is the full listing, so the
 * changed keys are found by comparing it with the previous one; an answer that changes no value (the wait
 * ran out, or only a key past the path boundary such as /app/dbx for /app/db changed) wakes nobody.
 *
 * Consul's rules for blocking queries are followed: an index that goes backwards (the agent lost its data
 * or a snapshot was restored) starts over from 0 with a plain read, reported as "anything may have
 * changed", and an index of 0 is never waited on. A failed query rejects the waiting callers and is
 * retried with a growing delay; a caller arming with index 0 meanwhile triggers an immediate attempt.
 */
export class ConsulPrefixWatch {
  private readonly feed = new WatchEventBuffer(nextChangeIndex());
  private values: KVPairs | undefined;
  private consulIndex = 0;
  /** The next difference is reported as "anything may have changed". */
  private unknownChanges = false;
  /** The last attempt succeeded, so the loop is blocked on a current index. */
  private healthy = false;
  private failures = 0;
  private closed = false;
  private closedError: Error = new Error('consul: watch closed');
  private readonly stop = new AbortController();
  private wake: (() => void) | undefined;
  /** Callers waiting for the outcome of the next attempt: undefined on success, else the error. */
  private attemptWaiters: ((outcome: unknown) => void)[] = [];

  constructor(
    readonly prefix: string,
    private readonly read: ListingReader,
    private readonly logger: Logger,
  ) {
    void this.run();
  }

  /**
   * `waitIndex` 0: answers with the current index once the prefix has been read (at once, unless the
   * first read or a retry after a failure is still due). Otherwise waits for changes after `waitIndex`.
   */
  async wait(waitIndex: number, signal: AbortSignal): Promise<WatchResult> {
    if (waitIndex !== 0) return this.feed.wait(waitIndex, signal);
    if (this.closed) throw this.closedError;
    if (!this.healthy) {
      const outcome = await untilAborted(this.nextAttempt(), signal);
      if (outcome !== undefined) throw outcome as Error;
    }
    return { index: this.feed.latest };
  }

  /** Cancels the query in flight; waiting callers reject with `err`. */
  close(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closedError = err;
    this.stop.abort();
    this.wake?.();
    this.settleAttempt(err);
    this.feed.fail(err);
  }

  private nextAttempt(): Promise<unknown> {
    return new Promise((resolve) => {
      this.attemptWaiters.push(resolve);
      // Skip the rest of a retry delay: someone is waiting for the store now.
      this.wake?.();
    });
  }

  private settleAttempt(outcome: unknown): void {
    const waiters = this.attemptWaiters;
    this.attemptWaiters = [];
    for (const resolve of waiters) resolve(outcome);
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      let failure: unknown;
      let unindexed = false;
      try {
        const listing = await this.read(this.consulIndex, this.stop.signal);
        this.apply(listing);
        unindexed = listing.index <= 0;
      } catch (err) {
        if (this.closed) return;
        failure = err ?? new Error('consul: watch failed');
        this.fail(failure);
      }
      this.settleAttempt(failure);
      if (failure !== undefined) {
        await this.pause(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1)));
      } else if (unindexed) {
        // No X-Consul-Index (something in between drops it): no query would block, so poll, not spin.
        await this.pause(UNINDEXED_POLL_MS);
      }
    }
  }

  private apply({ index, entries }: ConsulListing): void {
    if (index < this.consulIndex) {
      this.logger.info(
        `consul: the index of ${this.prefix} went back from ${this.consulIndex} to ${index}; reading it again`,
      );
      this.consulIndex = 0;
      this.unknownChanges = true;
      return;
    }
    this.consulIndex = Math.max(index, 1);
    const next = entryValues(this.prefix, entries);
    if (this.values !== undefined) {
      const changed = changedKeys(this.values, next);
      if (changed.length > 0) this.feed.record(countedChanges(this.unknownChanges ? undefined : changed));
    }
    this.values = next;
    this.unknownChanges = false;
    this.healthy = true;
    this.failures = 0;
    this.feed.recover();
  }

  private fail(err: unknown): void {
    this.failures += 1;
    this.healthy = false;
    // Start over with a plain read: whatever happened meanwhile, the next listing is compared as a whole.
    this.consulIndex = 0;
    if (this.values !== undefined) this.unknownChanges = true;
    this.logger.warn(`consul: watching ${this.prefix} failed: ${errorMessage(err)}; retrying`);
    this.feed.fail(err);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
