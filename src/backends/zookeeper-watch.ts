import { posix } from 'node:path';
import { keyIsUnder } from '../key-path.js';
import { readTree, zkPath } from './zookeeper-tree.js';
import type { ZkEvent, ZkNodeReader, ZkSession, ZkWatcher } from './zookeeper-session.js';

/**
 * Fans one session's watch notifications out to every waiting watchPrefix call. All watches are set with the
 * same function, so the library keeps at most one listener per node and kind however often a node is
 * re-watched, and a notification reaches whoever waits at that moment.
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

/**
 * Waits for a change under `prefix` newer than `waitIndex` and returns the new index, a zxid. Watches are set
 * while reading the subtree; if the subtree already carries a zxid above `waitIndex` (something changed since
 * the caller's last read) it returns at once, so no change between two calls is lost. `waitIndex` 0 returns
 * the current index immediately.
 */
export async function waitForChange(
  session: ZkSession,
  hub: ZkEventHub,
  prefix: string,
  waitIndex: number,
  signal: AbortSignal,
): Promise<number> {
  signal.throwIfAborted();
  const root = zkPath(prefix);
  let unsubscribe = (): void => undefined;
  let onAbort = (): void => undefined;
  let unLost = (): void => undefined;
  const changed = new Promise<ZkEvent>((resolve) => {
    unsubscribe = hub.subscribe((event) => {
      if (keyIsUnder(event.path, root)) resolve(event);
    });
  });
  const stopped = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    unLost = session.onLost(reject);
  });
  try {
    const read = await Promise.race([readTree(session, root, hub.watcher), stopped]);
    // A deleted root leaves no node to carry the deletion's zxid; its parent's pzxid does.
    const current = read.found
      ? read.maxZxid
      : Math.max(read.maxZxid, await Promise.race([ancestorZxid(session, root), stopped]));
    if (waitIndex === 0 || current > waitIndex) return Math.max(current, 1);
    const event = await Promise.race([changed, stopped]);
    return await Promise.race([indexAfter(session, event.path, waitIndex), stopped]);
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', onAbort);
    unLost();
  }
}

/** The pzxid of the nearest existing ancestor of `path`. */
async function ancestorZxid(reader: ZkNodeReader, path: string): Promise<number> {
  for (let dir = posix.dirname(path); ; dir = posix.dirname(dir)) {
    const stat = await reader.exists(dir);
    if (stat) return stat.pzxid;
    if (dir === '/') return 0;
  }
}

/**
 * The zxid of the change that fired a watch on `path`: the node's own mzxid/pzxid, or for a deletion its
 * parent's pzxid. Later changes only raise it, which the next read then sees as newer.
 */
async function indexAfter(reader: ZkNodeReader, path: string, floor: number): Promise<number> {
  const [own, parent] = await Promise.all([
    reader.exists(path),
    path === '/' ? undefined : reader.exists(posix.dirname(path)),
  ]);
  const seen = Math.max(own ? Math.max(own.mzxid, own.pzxid) : 0, parent?.pzxid ?? 0);
  return seen > floor ? seen : floor + 1;
}
