import { keyIsUnder } from '../key-path.js';
import type { KVPairs } from '../kv-pairs.js';

/**
 * The values under one watched prefix, kept in step with the store by the watch itself: read in full
 * when the watch is armed, then changed by each event, which on etcd carries the key's new value. A
 * render after a change reads its keys here instead of asking the store again, which was one round trip
 * of the ~3 ms between a store write and the renamed file. It holds keys under its root only (etcd's
 * watch range also covers siblings such as root-x).
 *
 * Whether the copy may be read is the watch's call: only while its stream is connected and every event
 * up to the one it last reported has been applied (see EtcdPrefixWatch.valuesUnder).
 */
export class WatchedCopy {
  private readonly values = new Map<string, string>();

  constructor(readonly root: string) {}

  put(key: string, value: string): void {
    if (keyIsUnder(key, this.root)) this.values.set(key, value);
  }

  delete(key: string): void {
    this.values.delete(key);
  }

  /** Every key equal to or under `base`, with its value; undefined when `base` lies outside the root. */
  valuesUnder(base: string): KVPairs | undefined {
    return keyIsUnder(base, this.root) ? selectUnder(this.values, base) : undefined;
  }

  get size(): number {
    return this.values.size;
  }
}

/** The entries for `base` and the keys under it (on a '/' boundary). */
export function selectUnder(entries: Iterable<[string, string]>, base: string): KVPairs {
  const found: KVPairs = new Map();
  for (const [key, value] of entries) if (keyIsUnder(key, base)) found.set(key, value);
  return found;
}

/** The same keys with the same values. */
export function sameValues(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}
