import type {
  KVPairs,
  StoreClient,
  WatchOptions,
  WatchResult,
} from '../../../../src/backends/store-client.js';
import { BackendError } from '../../../../src/errors.js';
import { keyIsUnder } from '../../../../src/key-path.js';

interface Waiter {
  prefix: string;
  since: number;
  resolve: (result: WatchResult) => void;
  reject: (err: unknown) => void;
}

/**
 * An in-memory store that keeps the StoreClient watch contract: waitIndex 0 answers at once, later waits
 * get every change under the prefix after the index they pass, buffered between calls.
 */
export class FakeStore implements StoreClient {
  readonly data: KVPairs = {};
  readonly watchCalls: { prefix: string; keys: readonly string[]; waitIndex: number }[] = [];
  readonly reads: (readonly string[])[] = [];
  private index = 10;
  private readonly events: { index: number; keys: string[] | undefined }[] = [];
  private readonly waiters = new Set<Waiter>();
  private failures = 0;
  /** Arming (waitIndex 0) works but every wait fails at once: a proxy that cuts long polls. */
  dropWaits = false;

  async getValues(keys: readonly string[]): Promise<KVPairs> {
    this.reads.push(keys);
    const values: KVPairs = {};
    for (const [key, value] of Object.entries(this.data)) {
      if (keys.some((base) => keyIsUnder(key, base))) values[key] = value;
    }
    return values;
  }

  async watchPrefix(prefix: string, keys: readonly string[], options: WatchOptions): Promise<WatchResult> {
    this.watchCalls.push({ prefix, keys, waitIndex: options.waitIndex });
    options.signal.throwIfAborted();
    if (this.failures > 0) {
      this.failures -= 1;
      throw new BackendError('fake store: connection refused', 'fake', ['127.0.0.1:1']);
    }
    if (options.waitIndex === 0) return { index: this.index };
    if (this.dropWaits) throw new BackendError('fake store: long poll cut', 'fake', ['127.0.0.1:1']);
    const ready = this.since(prefix, options.waitIndex);
    if (ready) return ready;
    const { signal } = options;
    return new Promise<WatchResult>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(waiter);
        reject(signal.reason);
      };
      const waiter: Waiter = { prefix, since: options.waitIndex, resolve, reject };
      this.waiters.add(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async close(): Promise<void> {}

  /** Sets (or, with undefined, deletes) keys in one store transaction. */
  change(values: Record<string, string | undefined>): void {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete this.data[key];
      else this.data[key] = value;
    }
    this.record(Object.keys(values));
  }

  /** A change the store cannot itemise (compaction, reconnect). */
  changeUnknown(): void {
    this.record(undefined);
  }

  /** Fails the waits in progress and the next `count` watch calls, as a lost connection would. */
  breakConnection(count: number): void {
    this.failures = count;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters)
      waiter.reject(new BackendError('fake store: connection lost', 'fake', ['127.0.0.1:1']));
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
