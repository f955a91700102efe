/**
 * Flat key/value pairs as confd sees them: absolute, '/'-separated keys mapped to string values. Stores
 * produce them and templates read them; both import the type from here, so neither imports the other.
 *
 * A Map, not an object: a read of 10,000 keys into an object made it a dictionary whose every key V8
 * interns as a property name (~0.5 µs each on a onetime run's baseline code, ~5 ms of an etcd read; a Map
 * insert ~0.15 µs), and a key such as "/constructor" needs no guard against Object.prototype.
 */
export type KVPairs = Map<string, string>;

/** Sets every pair of `source` on `target` (later sets win, as Object.assign did); returns `target`. */
export function setAll(target: KVPairs, source: ReadonlyMap<string, string>): KVPairs {
  for (const [key, value] of source) target.set(key, value);
  return target;
}

/**
 * Pairs in Go's string order (bytewise UTF-8) with no key twice, as two arrays: a resource's part of a
 * snapshot handed to its template's store without a Map built for it (KeyIndex.visiblePairs). The arrays
 * are the caller's no longer: nothing may change them.
 */
export class SortedPairs {
  constructor(
    readonly keys: readonly string[],
    readonly values: readonly string[],
  ) {}
}
