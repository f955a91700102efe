import { errorMessage } from '../errors.js';
import { cleanKey, keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { changedKeys } from './changed-keys.js';
import { entryValues, type ConsulEntry } from './consul-kv.js';
import type { WatchSource } from './shared-watches.js';
import type { KVPairs, WatchResult } from './store-client.js';
import {
  concerning,
  countedChanges,
  nextChangeIndex,
  untilAborted,
  WatchEventBuffer,
} from './watch-event-buffer.js';
import { selectUnder } from './watched-copy.js';

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

const UNINDEXED_POLL_MS = 1000;

/**
 * One blocking query loop on one prefix, shared by every holder watching it: there is never more than one
 * query in flight for the prefix, whatever the number of holders. Each answer is the full listing, so the
 * changed keys are found by comparing it with the previous one; an answer that changes no value (the wait
 * ran out, or only a key past the path boundary such as /app/dbx for /app/db changed) wakes nobody.
 *
 * Consul's rules for blocking queries are followed: an index that goes backwards (the agent lost its data
 * or a snapshot was restored) starts over from 0 with a plain read, reported as "anything may have
 * changed", and an index of 0 is never waited on. A failed query ends the loop for good: the holders are
 * told, and whoever arms next gets a fresh loop (see SharedWatches), paced by the one retry policy.
 */
export class ConsulPrefixWatch implements WatchSource {
  private readonly feed = new WatchEventBuffer(nextChangeIndex());
  private values: KVPairs | undefined;
  private consulIndex = 0;
  /** The next difference is reported as "anything may have changed". */
  private unknownChanges = false;
  private failure: Error | undefined;
  private readonly stop = new AbortController();
  private wake: (() => void) | undefined;
  /** Resolves with the first listing, rejects if it fails. */
  private readonly firstRead: Promise<void>;
  private firstReadDone!: (err?: Error) => void;

  constructor(
    readonly prefix: string,
    private readonly read: ListingReader,
    private readonly logger: Logger,
  ) {
    this.firstRead = new Promise<void>((resolve, reject) => {
      this.firstReadDone = (err) => (err ? reject(err) : resolve());
    });
    this.firstRead.catch(() => undefined);
    void this.run();
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Answers with the current index once the prefix has been read. */
  async arm(signal: AbortSignal): Promise<number> {
    await untilAborted(this.firstRead, signal);
    if (this.failure) throw this.failure;
    return this.feed.latest;
  }

  /**
   * The values of `base` and the keys under it from the latest answer, which is the whole prefix: a read
   * after a change needs no request of its own. Undefined when this loop cannot answer for the store:
   * `base` outside the prefix, no answer yet, the loop failed, or the index went back (a re-read is due).
   */
  valuesUnder(base: string): KVPairs | undefined {
    const key = cleanKey(base);
    if (this.failure || this.values === undefined || this.unknownChanges || !keyIsUnder(key, this.prefix))
      return undefined;
    return selectUnder(this.values, key);
  }

  wait(afterIndex: number, keys: readonly string[], signal: AbortSignal): Promise<WatchResult> {
    return this.feed.wait(afterIndex, signal, concerning(keys));
  }

  /** Cancels the query in flight; waiting holders reject with `err`. */
  close(err: Error): void {
    this.end(err);
  }

  private end(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.stop.abort();
    this.wake?.();
    this.firstReadDone(err);
    this.feed.fail(err);
  }

  private async run(): Promise<void> {
    while (!this.failure) {
      let listing: ConsulListing;
      try {
        listing = await this.read(this.consulIndex, this.stop.signal);
      } catch (err) {
        if (this.failure) return;
        const failure = err instanceof Error ? err : new Error(`consul: watching ${this.prefix} failed`);
        this.logger.debug(`consul: watching ${this.prefix} failed: ${errorMessage(failure)}`);
        this.end(failure);
        return;
      }
      this.apply(listing);
      this.firstReadDone();
      // No X-Consul-Index (something in between drops it): no query would block, so poll, not spin.
      if (listing.index <= 0) await this.pause(UNINDEXED_POLL_MS);
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
    const previous = this.values;
    const unknown = this.unknownChanges;
    // The new values first: a holder woken by the change reads them (valuesUnder).
    this.values = entryValues(this.prefix, entries);
    this.unknownChanges = false;
    if (previous !== undefined) {
      const changed = changedKeys(previous, this.values);
      if (changed.length > 0) this.feed.record(countedChanges(unknown ? undefined : changed));
    }
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
