import type {
  KVPairs,
  PrefixWatch,
  StoreClient,
  WatchResult,
} from '../../../../src/backends/store-client.js';
import { abortReason } from '../../../../src/backends/watch-event-buffer.js';
import { BackendError } from '../../../../src/errors.js';
import { keyIsUnder } from '../../../../src/key-path.js';

interface Waiter {
  prefix: string;
  since: number;
  resolve: (result: WatchResult) => void;
  reject: (err: unknown) => void;
}

const refused = (what: string): BackendError =>
  new BackendError(`fake store: ${what}`, 'fake', ['127.0.0.1:1']);

/**
 * An in-memory store that keeps the StoreClient watch contract: arming answers at once with the current
 * index, `next` gets every change under the prefix after the index it is given, buffered between calls.
 * Tests break it on purpose and count what was asked of it.
 */
export class FakeStore implements StoreClient {
  readonly data: KVPairs = new Map();
  /** Every watch() call, by prefix, in order. */
  readonly arms: string[] = [];
  /** Every next() call: prefix, index and keys. */
  readonly waits: { prefix: string; afterIndex: number; keys: readonly string[] }[] = [];
  /** Prefixes whose watch was released, in order. */
  readonly releases: string[] = [];
  /** Every getValues call's keys. */
  readonly reads: (readonly string[])[] = [];
  /** Whether each getValues call asked for a fresh read (past any watch's copy), in order. */
  readonly freshReads: boolean[] = [];
  closed = false;
  private index = 10;
  private readonly events: { index: number; keys: string[] | undefined }[] = [];
  private readonly waiters = new Set<Waiter>();
  private armFailures = 0;
  /** Arming works but every wait fails at once: a proxy that cuts long polls. */
  dropWaits = false;
  /** getValues fails with this while set. */
  readError: Error | undefined;
  /** Called on every getValues, before it answers (a test may change data or wait). */
  onRead: (() => Promise<void> | void) | undefined;

  async getValues(
    keys: readonly string[],
    options: { signal?: AbortSignal; fresh?: boolean } = {},
  ): Promise<KVPairs> {
    this.reads.push([...keys]);
    this.freshReads.push(options.fresh === true);
    await this.onRead?.();
    options.signal?.throwIfAborted();
    if (this.readError) throw this.readError;
    const values: KVPairs = new Map();
    for (const [key, value] of this.data)
      if (keys.some((base) => keyIsUnder(key, base))) values.set(key, value);
    return values;
  }

  async watch(prefix: string, options: { signal?: AbortSignal } = {}): Promise<PrefixWatch> {
    this.arms.push(prefix);
    options.signal?.throwIfAborted();
    if (this.armFailures > 0) {
      this.armFailures -= 1;
      throw refused('connection refused');
    }
    let released = false;
    return {
      prefix,
      index: this.index,
      next: (afterIndex, keys, { signal }) => {
        this.waits.push({ prefix, afterIndex, keys });
        if (signal.aborted) return Promise.reject(abortReason(signal));
        if (released) return Promise.reject(refused('released'));
        if (this.dropWaits) return Promise.reject(refused('long poll cut'));
        const ready = this.since(prefix, afterIndex);
        if (ready) return Promise.resolve(ready);
        return new Promise<WatchResult>((resolve, reject) => {
          const onAbort = (): void => {
            this.waiters.delete(waiter);
            reject(abortReason(signal));
          };
          const waiter: Waiter = {
            prefix,
            since: afterIndex,
            resolve: (result) => {
              signal.removeEventListener('abort', onAbort);
              resolve(result);
            },
            reject,
          };
          this.waiters.add(waiter);
          signal.addEventListener('abort', onAbort, { once: true });
        });
      },
      release: () => {
        if (released) return;
        released = true;
        this.releases.push(prefix);
      },
    };
  }

  /** ping fails with this while set. */
  pingError: Error | undefined;
  pings = 0;

  async ping(): Promise<void> {
    this.pings += 1;
    if (this.pingError) throw this.pingError;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Sets (or, with undefined, deletes) keys in one store transaction. */
  change(values: Record<string, string | undefined>): void {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) this.data.delete(key);
      else this.data.set(key, value);
    }
    this.record(Object.keys(values));
  }

  /** A change the store cannot itemise (compaction, reconnect). */
  changeUnknown(): void {
    this.record(undefined);
  }

  /** Fails the waits in progress and the next `count` arms, as a lost connection would. */
  breakConnection(count: number): void {
    this.armFailures = count;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter.reject(refused('connection lost'));
  }

  private record(keys: string[] | undefined): void {
    this.index += 1;
    this.events.push({ index: this.index, keys });
    for (const waiter of [...this.waiters]) {
      const ready = this.since(waiter.prefix, waiter.since);
      if (ready) {
        this.waiters.delete(waiter);
        waiter.resolve(ready);
      }
    }
  }

  private since(prefix: string, since: number): WatchResult | undefined {
    const keys = new Set<string>();
    for (const event of this.events) {
      if (event.index <= since) continue;
      if (event.keys === undefined) return { index: this.index };
      for (const key of event.keys) if (keyIsUnder(key, prefix)) keys.add(key);
    }
    return keys.size > 0 ? { index: this.index, changedKeys: [...keys] } : undefined;
  }
}
