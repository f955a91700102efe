import { BackendError } from '../errors.js';
import { cleanKey } from '../key-path.js';
import type { PrefixWatch, WatchResult } from './store-client.js';
import { abortReason, untilAborted } from './watch-event-buffer.js';

/**
 * What a backend keeps per watched prefix: one store-side watch (an etcd watch stream, a Consul blocking
 * query loop, a ZooKeeper tree cache, a Redis pattern subscription). A source is used once: when it
 * fails it stays failed, and the next holder to arm gets a fresh one. That keeps recovery in one place,
 * the holder's retry loop, instead of a backend loop retrying underneath it.
 */
export interface WatchSource {
  /** Resolves with the index to wait from once the store-side watch is in place. */
  arm(signal: AbortSignal): Promise<number>;
  /** Changes after `afterIndex` relevant to `keys`; rejects once the source failed. */
  wait(afterIndex: number, keys: readonly string[], signal: AbortSignal): Promise<WatchResult>;
  /** True once the source stopped working for good. */
  readonly failed: boolean;
  /** Ends the store-side watch; pending waits reject with `err`. Resolves once the store let go of it. */
  close(err: BackendError): void | Promise<void>;
}

interface Entry<S> {
  readonly source: S;
  holders: number;
  /** The source was closed (last holder gone, or closeAll): it is never closed twice. */
  closed: boolean;
}

/**
 * The per-prefix watches of one store client, shared by every holder and released with the last one.
 * Every backend keeps its watches here, so sharing, release and "fresh source after a failure" follow one
 * set of rules on every store.
 */
export class SharedWatches<S extends WatchSource> {
  private readonly current = new Map<string, Entry<S>>();
  private closed: BackendError | undefined;

  constructor(
    private readonly open: (prefix: string) => S,
    private readonly describe: { backend: string; endpoints: readonly string[] },
  ) {}

  /** Arms a watch on `prefix` for one more holder; rejects (and holds nothing) if arming fails. */
  async acquire(prefix: string, signal: AbortSignal = new AbortController().signal): Promise<PrefixWatch> {
    signal.throwIfAborted();
    if (this.closed) throw this.closed;
    const root = cleanKey(prefix);
    let entry = this.current.get(root);
    if (!entry || entry.source.failed) {
      entry = { source: this.open(root), holders: 0, closed: false };
      this.current.set(root, entry);
    }
    entry.holders += 1;
    const held = entry;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      held.holders -= 1;
      if (held.holders > 0 || held.closed) return;
      held.closed = true;
      if (this.current.get(root) === held) this.current.delete(root);
      void Promise.resolve(held.source.close(this.releasedError(root))).catch(() => undefined);
    };
    let index: number;
    try {
      index = await untilAborted(held.source.arm(signal), signal);
    } catch (err) {
      release();
      throw err;
    }
    return {
      prefix: root,
      index,
      next: (afterIndex, keys, options) => {
        if (options.signal.aborted) return Promise.reject(abortReason(options.signal));
        if (released) return Promise.reject(this.releasedError(root));
        return held.source.wait(afterIndex, keys, options.signal);
      },
      release,
    };
  }

  /** The live sources, for a backend that answers reads from them (the ZooKeeper tree cache). */
  sources(): S[] {
    return [...this.current.values()].map((entry) => entry.source).filter((source) => !source.failed);
  }

  /** Number of prefixes with a store-side watch: what a test or a status page counts. */
  get size(): number {
    return this.current.size;
  }

  /** Ends every watch; later acquires reject with `err`. Resolves once every source let go. */
  async closeAll(err: BackendError): Promise<void> {
    this.closed = err;
    const entries = [...this.current.values()];
    this.current.clear();
    for (const entry of entries) entry.closed = true;
    await Promise.all(entries.map(async (entry) => entry.source.close(err)));
  }

  private releasedError(root: string): BackendError {
    const { backend, endpoints } = this.describe;
    return new BackendError(`${backend}: the watch on ${root} was released`, backend, endpoints);
  }
}
