import { posix } from 'node:path';
import { errorMessage, type BackendError } from '../errors.js';
import { keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import type { WatchSource } from './shared-watches.js';
import type { KVPairs, WatchResult } from './store-client.js';
import {
  concerning,
  countedChanges,
  nextChangeIndex,
  untilAborted,
  WatchEventBuffer,
} from './watch-event-buffer.js';
import type { ZkEvent, ZkNodeReader, ZkSession, ZkWatcher } from './zookeeper-session.js';
import { childPaths, leafValue, readNodes, SYSTEM_ROOT, type ZkNodes } from './zookeeper-tree.js';
import type { ZkEventHub } from './zookeeper-watch.js';

/** A session and the hub its watches report to. */
export interface LiveSession {
  session: ZkSession;
  hub: ZkEventHub;
}

// The library's event types (node-zookeeper-client Event.*).
const NODE_CREATED = 1;
const NODE_DELETED = 2;
const NODE_DATA_CHANGED = 3;
const NODE_CHILDREN_CHANGED = 4;

/** A root that keeps appearing and vanishing between our reads is left to its next event. */
const ROOT_LOAD_ATTEMPTS = 5;

/**
 * A mirror of one subtree (the watched prefix) kept current by ZooKeeper watches, shared by every caller
 * watching that prefix. Every read of a node sets its watches (data and children), so nothing that happens
 * between a notification and the re-read is lost: the re-read sees it, and re-arms. A missing root is
 * watched with an existence watch, which ZooKeeper allows even when its parents do not exist.
 *
 * Notifications are applied one at a time, in order, each by re-reading only what it names: a data change
 * re-reads that node, a children change diffs the children (removing vanished subtrees, reading new ones),
 * a deletion drops the subtree. Only changes to values (leaf data, leaves appearing or vanishing) are
 * reported. When the session is lost (expired, or no server took it back in time) or a re-read fails, the
 * cache fails for good: its holders are told, and whoever arms next gets a fresh cache built from a full
 * read on a live session (see SharedWatches), paced by the one retry policy.
 */
export class ZkTreeCache implements WatchSource {
  protected nodes: ZkNodes = new Map();
  protected readonly feed = new WatchEventBuffer(nextChangeIndex());
  private bound: { live: LiveSession; release: () => void } | undefined;
  /** Every read-and-apply step runs after the previous one. */
  private tail: Promise<void> = Promise.resolve();
  /** Steps queued or running; the cache answers reads only when idle. */
  private pending = 0;
  /** A full read on the bound session succeeded and nothing failed since. */
  protected synced = false;
  /** The first full read is the starting point, not a change. */
  private loaded = false;
  private queuedResync: Promise<void> | undefined;
  protected closed = false;
  private closedError: unknown;
  /** Paths whose value the running step changed, announced when it ends (see enqueue). */
  private unannounced: string[] = [];
  /** Value of each path touched by the running step, as it was before the step. */
  private readonly before = new Map<string, string | undefined>();

  constructor(
    readonly root: string,
    private readonly open: () => Promise<LiveSession>,
    protected readonly logger: Logger,
  ) {}

  get failed(): boolean {
    return this.closed;
  }

  /** Arms the watches with a full read (shared by holders arriving meanwhile); answers the current index. */
  async arm(signal: AbortSignal): Promise<number> {
    if (this.closed) throw this.closedError;
    if (!this.synced) await untilAborted(this.resync(), signal);
    return this.feed.latest;
  }

  wait(afterIndex: number, keys: readonly string[], signal: AbortSignal): Promise<WatchResult> {
    return this.feed.wait(afterIndex, signal, concerning(keys));
  }

  /**
   * The values at or under `key` as the cache holds them, or undefined when it cannot answer: not in step
   * with the store, or in the middle of applying a change.
   */
  valuesUnder(key: string): KVPairs | undefined {
    if (!this.synced || this.pending > 0 || !keyIsUnder(key, this.root)) return undefined;
    // The walk from '/' leaves /zookeeper out; a read of it must go to the store.
    if (this.root === '/' && keyIsUnder(key, SYSTEM_ROOT)) return undefined;
    const values: KVPairs = new Map();
    for (const [path, node] of this.nodes) {
      if (!keyIsUnder(path, key)) continue;
      const value = leafValue(path, node);
      if (value !== undefined) values.set(path, value);
    }
    return values;
  }

  /** Stops applying notifications; waiting holders reject with `err`. */
  close(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.closedError = err;
    this.bound?.release();
    this.bound = undefined;
    this.synced = false;
    this.feed.fail(err);
  }

  /** Queues a full read; requests made before it ends share it. Rejects with its error. */
  protected resync(): Promise<void> {
    if (!this.queuedResync) {
      const run = this.enqueue(() => this.rebuild()).finally(() => {
        if (this.queuedResync === run) this.queuedResync = undefined;
      });
      run.catch(() => undefined);
      this.queuedResync = run;
    }
    return this.queuedResync;
  }

  /**
   * Runs `step` after the ones queued before it. What it changed is announced once it no longer counts as
   * pending: a holder woken by the change reads at once, and must find the mirror answering (a read that
   * found it busy went to the store: three requests per change on a one-key prefix).
   */
  protected enqueue(step: () => Promise<void>): Promise<void> {
    this.pending += 1;
    const run = this.tail.then(step).finally(() => {
      this.pending -= 1;
      const changed = this.unannounced;
      this.unannounced = [];
      if (changed.length > 0) this.feed.record(countedChanges(changed));
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Reads the whole subtree on a live session (opening one if needed) and replaces the mirror with it. */
  private async rebuild(): Promise<void> {
    if (this.closed) throw this.closedError;
    try {
      const live = await this.open();
      if (this.bound?.live !== live) this.bind(live);
      const fresh = await this.load(live);
      this.replace(fresh);
      this.synced = true;
    } catch (err) {
      this.logger.debug(`zookeeper: watching ${this.root} failed: ${errorMessage(err)}`);
      this.close(err);
      throw err;
    }
  }

  private bind(live: LiveSession): void {
    this.bound?.release();
    const unsubscribe = this.subscribe(live, (event) => {
      if (!keyIsUnder(event.path, this.root)) return;
      void this.enqueue(() => this.apply(live, event));
    });
    const unLost = live.session.onLost((err) => this.sessionLost(live, err));
    this.bound = {
      live,
      release: () => {
        unsubscribe();
        unLost();
      },
    };
  }

  /** The whole subtree, with its watches set: one per node and kind, each set by the read of the node. */
  protected load(live: LiveSession): Promise<ZkNodes> {
    return this.readRoot(live.session, live.hub.watcher);
  }

  /** Routes the notifications of the session's watches under the root to `onEvent`; returns the undo. */
  protected subscribe(live: LiveSession, onEvent: (event: ZkEvent) => void): () => void {
    return live.hub.subscribe(onEvent);
  }

  protected handleEvent(live: LiveSession, event: ZkEvent): Promise<void> {
    return this.handle(live.session, live.hub.watcher, event);
  }

  private sessionLost(live: LiveSession, err: BackendError): void {
    if (this.closed || this.bound?.live !== live) return;
    this.logger.debug(`${err.message}: the watch on ${this.root} ends`);
    this.close(err);
  }

  /** One notification: re-read what it names, update the mirror, report changed values. Never rejects. */
  private async apply(live: LiveSession, event: ZkEvent): Promise<void> {
    // Without a mirror in step with this session, a full read is on its way and covers this event.
    if (this.closed || this.bound?.live !== live || !this.synced) return;
    try {
      await this.handleEvent(live, event);
    } catch (err) {
      if (this.closed || this.bound?.live !== live) return;
      // A read failed (connection loss): the watch it was to re-arm may be gone, so this cache is done.
      this.logger.debug(`zookeeper: re-reading ${event.path} after a change failed: ${errorMessage(err)}`);
      this.close(err);
    } finally {
      this.report();
    }
  }

  private async handle(reader: ZkNodeReader, watcher: ZkWatcher, event: ZkEvent): Promise<void> {
    const { path } = event;
    switch (event.type) {
      case NODE_CREATED:
        // Creations below the root show up as children changes of their parent.
        if (path === this.root && !this.nodes.has(path))
          this.merge(path, await this.readRoot(reader, watcher));
        return;
      case NODE_DELETED:
        await this.vanished(reader, watcher, path);
        return;
      case NODE_DATA_CHANGED: {
        if (!this.nodes.has(path)) return;
        const read = await reader.getData(path, watcher);
        const node = this.nodes.get(path);
        if (!read) await this.vanished(reader, watcher, path);
        else if (node) {
          this.touch(path);
          node.data = read.data;
        }
        return;
      }
      case NODE_CHILDREN_CHANGED: {
        if (!this.nodes.has(path)) return;
        const read = await reader.getChildren(path, watcher);
        if (!read) {
          await this.vanished(reader, watcher, path);
          return;
        }
        const listed = new Set(childPaths(path, read.children));
        for (const child of this.nodes.get(path)?.children ?? []) {
          if (!listed.has(child)) this.remove(child);
        }
        const known = new Set(this.nodes.get(path)?.children ?? []);
        const added = [...listed].filter((child) => !known.has(child));
        const subtrees = await Promise.all(added.map((child) => readNodes(reader, child, watcher)));
        added.forEach((child, i) => this.merge(child, subtrees[i] ?? (new Map() as ZkNodes)));
        return;
      }
      default:
        return;
    }
  }

  /** `path` is gone: drop its subtree; if it was the root, watch for the root to come back. */
  private async vanished(reader: ZkNodeReader, watcher: ZkWatcher, path: string): Promise<void> {
    this.remove(path);
    if (path === this.root) this.merge(path, await this.readRoot(reader, watcher));
  }

  /**
   * The whole subtree with watches on every node, or, when the root does not exist, nothing but an
   * existence watch on it. A root created between the read and the existence check is read again.
   */
  private async readRoot(reader: ZkNodeReader, watcher: ZkWatcher): Promise<ZkNodes> {
    for (let attempt = 0; attempt < ROOT_LOAD_ATTEMPTS; attempt += 1) {
      const nodes = await readNodes(reader, this.root, watcher);
      if (nodes.size > 0 || !(await reader.exists(this.root, watcher))) return nodes;
    }
    return new Map();
  }

  /** Replaces the mirror with a full read, reporting every value that differs. */
  private replace(fresh: ZkNodes): void {
    const changed: string[] = [];
    for (const path of new Set([...this.nodes.keys(), ...fresh.keys()])) {
      if (this.valueAt(path, this.nodes) !== this.valueAt(path, fresh)) changed.push(path);
    }
    this.nodes = fresh;
    if (!this.loaded) this.loaded = true;
    else this.announce(changed);
  }

  /** Adds a freshly read subtree at `top` (empty: nothing to add), linking it to its parent. */
  protected merge(top: string, subtree: ZkNodes): void {
    if (!subtree.has(top)) return;
    const parentPath = posix.dirname(top);
    const parent = top === this.root ? undefined : this.nodes.get(parentPath);
    if (top !== this.root && !parent) return;
    this.remove(top);
    for (const [path, node] of subtree) {
      this.touch(path);
      this.nodes.set(path, node);
    }
    if (parent && !parent.children.includes(top)) {
      this.touch(parentPath);
      parent.children.push(top);
    }
  }

  /** Drops the subtree at `path` and unlinks it from its parent. */
  protected remove(path: string): void {
    const node = this.nodes.get(path);
    if (!node) return;
    for (const child of [...node.children]) this.remove(child);
    this.touch(path);
    this.nodes.delete(path);
    const parentPath = posix.dirname(path);
    const parent = path === this.root ? undefined : this.nodes.get(parentPath);
    if (parent) {
      this.touch(parentPath);
      parent.children = parent.children.filter((child) => child !== path);
    }
  }

  protected touch(path: string): void {
    if (!this.before.has(path)) this.before.set(path, this.valueAt(path, this.nodes));
  }

  /** Reports the values the last step changed, if any. */
  private report(): void {
    const changed: string[] = [];
    for (const [path, value] of this.before) {
      if (this.valueAt(path, this.nodes) !== value) changed.push(path);
    }
    this.before.clear();
    this.announce(changed);
  }

  /** Not push(...changed): a full read after a reconnect may change more values than a call takes arguments. */
  private announce(changed: string[]): void {
    this.unannounced = this.unannounced.length === 0 ? changed : this.unannounced.concat(changed);
  }

  private valueAt(path: string, nodes: ZkNodes): string | undefined {
    const node = nodes.get(path);
    return node ? leafValue(path, node) : undefined;
  }
}
