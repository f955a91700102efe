import { cleanKey, joinKey } from '../key-path.js';
import { monotonicMs } from '../monotonic-ms.js';
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
  const values: KVPairs = new Map();
  for (const nodes of reads) {
    for (const [path, node] of nodes) {
      const value = leafValue(path, node);
      if (value !== undefined) values.set(path, value);
    }
  }
  return values;
}

/**
 * How many nodes of a level are read at once: 128 (one multiRead batch, zookeeper-read-batch.ts) while
 * the server answers a step within SLOW_STEP_MS, up to 1,024 while it does not.
 *
 * Every read in flight holds its promises and its reply until the step's reads are in, long enough to
 * outlive V8's young generation (kept small for -onetime, src/cli/v8-tuning.ts) and pile up in the old one
 * as garbage until a full collection. ZooKeeper on loopback, 10,000 keys, peak RSS: unbounded 88 MiB, 512
 * at a time 68 MiB, 128 at a time 57 MiB, all as fast (64: 7% slower, no smaller). But each step waits
 * for its reads: at 128 a 10,000-node level is ~79 round trips in a row, ~1.6 s to a server 20 ms away,
 * where 1,024 at a time is 10. A step that took longer than SLOW_STEP_MS (the round trip, not the
 * work, dominates: a distant server) so doubles the next one, a fast one halves it; and while the reads
 * wait on the network, little is allocated, so little is promoted. One by one (servers before 3.6), 128
 * pipelined reads still keep a near connection busy.
 */
export class ReadSteps {
  static readonly MIN = 128;
  static readonly MAX = 1024;
  static readonly SLOW_STEP_MS = 10;
  size = ReadSteps.MIN;

  constructor(private readonly now: () => number = monotonicMs) {}

  /** Runs one step of `size` reads (`run`), then sizes the next one by how long this one took. */
  async step<T>(run: () => Promise<T>): Promise<T> {
    const started = this.now();
    const result = await run();
    const slow = this.now() - started > ReadSteps.SLOW_STEP_MS;
    this.size = slow ? Math.min(ReadSteps.MAX, this.size * 2) : Math.max(ReadSteps.MIN, this.size / 2);
    return result;
  }
}

/**
 * Reads every znode of the subtree at `root`; empty when the root does not exist. Level by level: the
 * reads of a level are issued together, a step (ReadSteps) at a time, and pipelined on the session's one
 * connection (in multiRead batches where the server has them) rather than one round trip after another.
 * A node deleted while we walk is left out. With `watcher`, every node read also gets a data and a child
 * watch, set by the very read that returned its content, so no change after the read can go unnoticed.
 */
export async function readNodes(
  reader: ZkNodeReader,
  root: string,
  watcher?: ZkWatcher,
  steps: ReadSteps = new ReadSteps(),
): Promise<ZkNodes> {
  const nodes: ZkNodes = new Map();
  let level = [root];
  while (level.length > 0) {
    const below: string[] = [];
    for (let start = 0; start < level.length;) {
      const paths = level.slice(start, start + steps.size);
      start += paths.length;
      const listings = await steps.step(() =>
        Promise.all(
          paths.map((path) => (watcher ? watchedListing(reader, path, watcher) : listingOf(reader, path))),
        ),
      );
      paths.forEach((path, i) => {
        const listing = listings[i];
        if (!listing) return;
        const children = listing.names.length === 0 ? [] : childPaths(path, listing.names);
        nodes.set(path, { data: listing.data, children });
        for (const child of children) below.push(child);
      });
    }
    level = below;
  }
  // A child listed and then deleted before its own read is not the parent's child any more.
  for (const node of nodes.values()) {
    if (node.children.length > 0) node.children = node.children.filter((child) => nodes.has(child));
  }
  return nodes;
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
