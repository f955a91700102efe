import type { ZkEvent, ZkWatcher } from './zookeeper-session.js';

/**
 * Fans one session's watch notifications out to every tree cache on it. All watches are set with the same
 * function, so the library keeps at most one listener per node and kind however often a node is
 * re-watched, and the server holds one watch per node and kind for the session, however many caches or
 * callers care about the node.
 */
export class ZkEventHub {
  private readonly listeners = new Set<(event: ZkEvent) => void>();

  readonly watcher: ZkWatcher = (event) => {
    for (const listener of [...this.listeners]) listener(event);
  };

  subscribe(listener: (event: ZkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
