import type { PrefixWatch, StoreClient } from '../backends/store-client.js';
import type { EventBus } from '../events/event-bus.js';
import type { RetryPolicy } from '../retry-policy.js';
import type { WatchClock } from './watch-clock.js';
import { dirtyMembers, watchRoots, type RootMember, type WatchRoot } from './watch-roots.js';

export interface WatchRegistryOptions {
  events: EventBus;
  policy: RetryPolicy;
  clock: WatchClock;
  /** Store keys of a resource, by id. */
  keysOf(id: string): readonly string[];
  /** A change reached these resources (render them with their debounce window). */
  onChange(ids: readonly string[]): void;
  /** The watch works again after a failure: render these now, changes may have been missed meanwhile. */
  onRecovered(ids: readonly string[]): void;
}

interface FollowedRoot {
  root: WatchRoot;
  stop: AbortController;
  /** Resolves once the first arm succeeded or failed. */
  attempted: Promise<void>;
  done: Promise<void>;
}

/**
 * The one registry of per-prefix watches: which prefixes the running resources need watched (see
 * watch-roots.ts), one loop per prefix that arms the store's watch, follows it, and re-arms it after a
 * failure with the one retry policy. Resources come and go (live reload): `update` starts loops for new
 * prefixes, releases the watches nobody needs any more and lets the others carry on untouched.
 */
export class WatchRegistry {
  private readonly followed = new Map<string, FollowedRoot>();
  private store: StoreClient;

  constructor(
    store: StoreClient,
    private readonly options: WatchRegistryOptions,
  ) {
    this.store = store;
  }

  get prefixes(): string[] {
    return [...this.followed.keys()];
  }

  /**
   * Follows the prefixes `resources` need. Resolves once every new prefix has been armed (or failed to
   * arm), so the caller can render knowing that a change made from now on will be reported.
   */
  async update(resources: readonly RootMember[]): Promise<void> {
    const wanted = new Map(watchRoots(resources).map((root) => [root.prefix, root]));
    const ending: Promise<void>[] = [];
    for (const [prefix, followed] of this.followed) {
      if (wanted.has(prefix)) continue;
      this.followed.delete(prefix);
      followed.stop.abort();
      ending.push(followed.done);
    }
    const starting: Promise<void>[] = [];
    for (const [prefix, root] of wanted) {
      const existing = this.followed.get(prefix);
      if (existing) {
        // Same prefix, other members or keys: the loop reads the root afresh on every wait.
        existing.root.keys = root.keys;
        existing.root.members = root.members;
        continue;
      }
      const followed = this.follow(root);
      this.followed.set(prefix, followed);
      starting.push(followed.attempted);
    }
    await Promise.all([...starting, ...ending]);
  }

  /** Moves every watch to another store client (a reload changed the backend). */
  async switchStore(store: StoreClient, resources: readonly RootMember[]): Promise<void> {
    await this.stopAll();
    this.store = store;
    await this.update(resources);
  }

  /** Stops every loop and releases every watch. */
  async stopAll(): Promise<void> {
    const all = [...this.followed.values()];
    this.followed.clear();
    for (const followed of all) followed.stop.abort();
    await Promise.all(all.map((followed) => followed.done));
  }

  private follow(root: WatchRoot): FollowedRoot {
    const stop = new AbortController();
    let attempted!: () => void;
    const first = new Promise<void>((resolve) => (attempted = resolve));
    const done = this.loop(root, stop.signal, attempted).finally(attempted);
    return { root, stop, attempted: first, done };
  }

  /**
   * Arm, then wait for change after change, passing back the index each answer gives. A failed watch is
   * released and armed again after the pacer's delay; once it works again its resources are rendered, as
   * changes may have been missed. Only a wait that delivered counts as recovery for the pacer: a store that
   * accepts the arm and then drops every wait (a proxy cutting long polls) must keep backing off.
   */
  private async loop(root: WatchRoot, signal: AbortSignal, attempted: () => void): Promise<void> {
    const { events, policy, clock } = this.options;
    const pacer = policy.pacer();
    let watch: PrefixWatch | undefined;
    let index = 0;
    let failedBefore = false;
    while (!signal.aborted) {
      try {
        if (!watch) {
          watch = await this.store.watch(root.prefix, { signal });
          index = watch.index;
          events.emit({ type: 'watch', prefix: root.prefix, state: 'armed', index });
          attempted();
          if (failedBefore) this.options.onRecovered([...root.members]);
          continue;
        }
        const result = await watch.next(index, root.keys, { signal });
        index = result.index;
        pacer.reset();
        const dirty = dirtyMembers(root, (id) => this.options.keysOf(id), result.changedKeys);
        events.emit({
          type: 'watch',
          prefix: root.prefix,
          state: 'fired',
          index,
          ...(result.changedKeys ? { changedKeys: result.changedKeys.length } : {}),
          resources: dirty.length,
        });
        if (dirty.length > 0) this.options.onChange(dirty);
      } catch (err) {
        if (signal.aborted) break;
        watch?.release();
        watch = undefined;
        failedBefore = true;
        const retryInMs = pacer.nextDelay();
        const error = err instanceof Error ? err : new Error(String(err));
        events.emit({ type: 'watch', prefix: root.prefix, state: 'failed', error, retryInMs });
        attempted();
        await clock.sleep(retryInMs, signal);
      }
    }
    if (watch) {
      watch.release();
      events.emit({ type: 'watch', prefix: root.prefix, state: 'released', index });
    }
  }
}
