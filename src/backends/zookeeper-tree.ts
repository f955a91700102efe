import { cleanKey, joinKey } from '../key-path.js';
import type { KVPairs } from './store-client.js';
import type { ZkNodeReader, ZkStat, ZkWatcher } from './zookeeper-session.js';

/** What one subtree read found: the values, the newest zxid seen, and whether the root node exists. */
export interface TreeRead {
  values: KVPairs;
  /** Highest mzxid/pzxid over every node read: any later change under the root raises it. */
  maxZxid: number;
  found: boolean;
}

/** ZooKeeper's own bookkeeping subtree, left out when walking down from '/'. */
const SYSTEM_ROOT = '/zookeeper';

/**
 * The znode path confd reads for a key: clean, absolute, with confd's `/*` wildcard suffixes dropped
 * (confd strips every "/*" before walking).
 */
export function zkPath(key: string): string {
  return cleanKey(key.replaceAll('/*', ''));
}

/** Values of every requested key; subtrees and keys are read concurrently. */
export async function readValues(reader: ZkNodeReader, keys: readonly string[]): Promise<KVPairs> {
  const roots = [...new Set(keys.map(zkPath))];
  const reads = await Promise.all(roots.map((root) => readTree(reader, root)));
  return Object.assign({}, ...reads.map((read) => read.values)) as KVPairs;
}

/**
 * Reads the subtree at `root` the way confd does: a node without children is a value (its data, '' when
 * empty); a node with children is a directory whose own data is ignored. Children are requested all at once
 * on the session rather than one round trip after another. A node deleted while we walk is skipped.
 * With `watcher`, every node read also gets a data and a child watch, and a missing root an existence watch.
 */
export async function readTree(reader: ZkNodeReader, root: string, watcher?: ZkWatcher): Promise<TreeRead> {
  const read: TreeRead = { values: {}, maxZxid: 0, found: false };
  read.found = await walk(reader, root, read, watcher);
  if (!read.found && watcher) {
    // Creation of the root must wake a watcher too; exists() arms that even for a missing node.
    const stat = await reader.exists(root, watcher);
    if (stat) bump(read, stat);
  }
  return read;
}

async function walk(
  reader: ZkNodeReader,
  path: string,
  read: TreeRead,
  watcher: ZkWatcher | undefined,
): Promise<boolean> {
  // Both at once: a leaf then costs one round trip, not two.
  const [listing, node] = await Promise.all([
    reader.getChildren(path, watcher),
    reader.getData(path, watcher),
  ]);
  if (!listing || !node) return false;
  bump(read, listing.stat);
  bump(read, node.stat);
  if (listing.children.length === 0) {
    read.values[path] = node.data;
    return true;
  }
  // Only reachable from '/': asking for /zookeeper itself still reads it.
  const children = listing.children
    .map((child) => joinKey(path, child))
    .filter((child) => child !== SYSTEM_ROOT);
  await Promise.all(children.map((child) => walk(reader, child, read, watcher)));
  return true;
}

function bump(read: TreeRead, stat: ZkStat): void {
  read.maxZxid = Math.max(read.maxZxid, stat.mzxid, stat.pzxid);
}
