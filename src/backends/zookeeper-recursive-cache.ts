import { errorMessage, type BackendError } from '../errors.js';
import { keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import type { ZkEvent } from './zookeeper-session.js';
import { readNodes, SYSTEM_ROOT, type ZkNodes } from './zookeeper-tree.js';
import { ZkTreeCache, type LiveSession } from './zookeeper-tree-cache.js';

// The library's event types (node-zookeeper-client Event.*). A recursive watch sends no children events.
const NODE_CREATED = 1;
const NODE_DELETED = 2;
const NODE_DATA_CHANGED = 3;

/**
 * The tree cache of ZooKeeper 3.6+: one persistent recursive watch on the root (addWatch) instead of a data
 * and a child watch on every node, so the server holds one watch per prefix and client, however large the
 * subtree, and nothing has to be set again after each notification. The watch is added before the full
 * read, so every change after the read is notified; notifications are applied in order, each re-reading
 * what it names (a creation or a data change re-reads that node's data; a deletion drops the subtree).
 *
 * A persistent watch lives as long as the connection: the library re-sets one-shot watches after a
 * reconnect, but not these. While the connection is down the mirror answers no reads; once it is back
 * the watch is added again and the subtree read again, reporting every value that changed meanwhile. A
 * lost session fails the cache for good, as in ZkTreeCache.
 */
export class ZkRecursiveCache extends ZkTreeCache {
  constructor(
    root: string,
    open: () => Promise<LiveSession>,
    logger: Logger,
    /**
     * Told when the server refused addWatch; answers the error to fail with. The client builds one-shot
     * tree caches from then on.
     */
    private readonly unsupported: () => BackendError,
  ) {
    super(root, open, logger);
  }

  /** The session holding our watch, to remove it when the cache ends. */
  private watchedOn: LiveSession | undefined;

  protected override async load(live: LiveSession): Promise<ZkNodes> {
    if (!(await live.session.addRecursiveWatch(this.root))) throw this.unsupported();
    this.watchedOn = live;
    // A missing root reads as nothing: its creation is notified like any other.
    return readNodes(live.session, this.root);
  }

  /**
   * Unlike a one-shot watch, a persistent one stays on the server until removed: without this, every
   * released prefix would keep sending notifications for as long as the session lives.
   */
  override close(err: unknown): void {
    const live = this.watchedOn;
    this.watchedOn = undefined;
    super.close(err);
    if (live?.session.alive) void live.session.removeRecursiveWatch(this.root).catch(() => undefined);
  }

  protected override subscribe(live: LiveSession, onEvent: (event: ZkEvent) => void): () => void {
    const unNotify = live.session.onNotification((event) => {
      if (this.root === '/' && keyIsUnder(event.path, SYSTEM_ROOT)) return;
      onEvent(event);
    });
    const unConnection = live.session.onConnection((connected) => {
      if (this.closed) return;
      // Down: the mirror may fall behind, reads go to the store. Back: the watch went with the old
      // connection, so add it again and read everything again.
      this.synced = false;
      if (connected) void this.resync().catch(() => undefined);
    });
    return () => {
      unNotify();
      unConnection();
    };
  }

  protected override async handleEvent(live: LiveSession, event: ZkEvent): Promise<void> {
    try {
      await this.applyEvent(live, event);
    } catch (err) {
      // A read lost with the connection: the full read after the reconnect covers this change.
      if (!this.synced && live.session.alive) {
        this.logger.debug(
          `zookeeper: re-reading ${event.path} waits for the reconnect: ${errorMessage(err)}`,
        );
        return;
      }
      throw err;
    }
  }

  private async applyEvent({ session }: LiveSession, event: ZkEvent): Promise<void> {
    const { path } = event;
    switch (event.type) {
      case NODE_CREATED:
      case NODE_DATA_CHANGED: {
        const read = await session.getData(path);
        // Gone again: its deletion is the next notification about it.
        if (!read) return;
        const node = this.nodes.get(path);
        if (node) {
          this.touch(path);
          node.data = read.data;
        } else {
          // A node appears with no children: theirs are notified after it. (Under a node the mirror does
          // not hold, merge drops it: that parent was gone when read, so this node is gone too by now.)
          this.merge(path, new Map([[path, { data: read.data, children: [] }]]));
        }
        return;
      }
      case NODE_DELETED:
        this.remove(path);
        return;
      default:
        return;
    }
  }
}
