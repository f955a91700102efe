import { cleanKey, joinKey } from '../key-path.js';
import type { KVPairs } from './store-client.js';
import type { ZkNodeReader, ZkWatcher } from './zookeeper-session.js';

/** One znode as read: its data and the absolute paths of the children that were read with it. */
export interface ZkNode {
  data: string;
  children: string[];
}

/** Znodes by absolute path. */
export type ZkNodes = Map<string, ZkNode>;

/** ZooKeeper's own bookkeeping subtree, left out when walking down from '/'. */
export const SYSTEM_ROOT = '/zookeeper';

/**
 * The znode path confd reads for a key: clean, absolute, with confd's `/*` wildcard suffixes dropped
 * (confd strips every "/*" before walking).
 */
export function zkPath(key: string): string {
  return cleanKey(key.replaceAll('/*', ''));
}

/**
 * The value a znode stands for, as confd sees it: a node without children is a value (its data, '' when
 * empty); a node with children is a directory whose own data is ignored. '/' always has /zookeeper below
 * it, so it is never a value.
 */
export function leafValue(path: string, node: ZkNode): string | undefined {
  return path !== '/' && node.children.length === 0 ? node.data : undefined;
}

/** Absolute child paths of `path` from a getChildren listing, without /zookeeper under '/'. */
export function childPaths(path: string, names: readonly string[]): string[] {
  return names.map((name) => joinKey(path, name)).filter((child) => child !== SYSTEM_ROOT);
}

/** Values of every requested key; subtrees and keys are read concurrently. */
export async function readValues(reader: ZkNodeReader, keys: readonly string[]): Promise<KVPairs> {
  const roots = [...new Set(keys.map(zkPath))];
  const reads = await Promise.all(roots.map((root) => readNodes(reader, root)));
  const values: KVPairs = {};
  for (const nodes of reads) {
    for (const [path, node] of nodes) {
      const value = leafValue(path, node);
      if (value !== undefined) values[path] = value;
    }
  }
  return values;
}

/**
 * Reads every znode of the subtree at `root`; empty when the root does not exist. The requests of a level
 * are issued all at once and pipelined on the session's one connection (which bounds how many are in
 * flight) rather than one round trip after another. A node deleted while we walk is left out. With `watcher`, every node read also gets a data and a child watch, set by the very read that
 * returned its content, so no change after the read can go unnoticed.
 */
export async function readNodes(reader: ZkNodeReader, root: string, watcher?: ZkWatcher): Promise<ZkNodes> {
  const nodes: ZkNodes = new Map();
  await walk(reader, root, nodes, watcher);
  return nodes;
}

async function walk(
  reader: ZkNodeReader,
  path: string,
  nodes: ZkNodes,
  watcher: ZkWatcher | undefined,
): Promise<boolean> {
  const listing = watcher ? await watchedListing(reader, path, watcher) : await listingOf(reader, path);
  if (!listing) return false;
  const node: ZkNode = { data: listing.data, children: [] };
  nodes.set(path, node);
  if (listing.names.length === 0) return true;
  const children = childPaths(path, listing.names);
  const found = await Promise.all(children.map((child) => walk(reader, child, nodes, watcher)));
  node.children = children.filter((_child, i) => found[i]);
  return true;
}

interface Listing {
  data: string;
  names: string[];
}

/**
 * A node's data, and its children only when its stat says it has any: a leaf (most nodes of a tree of
 * values) then costs one request, not two.
 */
async function listingOf(reader: ZkNodeReader, path: string): Promise<Listing | undefined> {
  const read = await reader.getData(path);
  if (!read) return undefined;
  if (read.stat.numChildren === 0) return { data: read.data, names: [] };
  const listing = await reader.getChildren(path);
  return listing && { data: read.data, names: listing.children };
}

/** Both reads at once, each setting its watch: a leaf must be watched for children appearing too. */
async function watchedListing(
  reader: ZkNodeReader,
  path: string,
  watcher: ZkWatcher,
): Promise<Listing | undefined> {
  const [listing, read] = await Promise.all([
    reader.getChildren(path, watcher),
    reader.getData(path, watcher),
  ]);
  return listing && read && { data: read.data, names: listing.children };
}
