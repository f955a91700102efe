import { compareGoStrings, goByteLength } from '../go-strings.js';
import type { KVPair } from '../kv-store.js';
import { arrayArg } from './args.js';
import { defineHelper } from './spec.js';

/** Building and reordering lists and maps. Results are new arrays; inputs are never modified. */
export const collectionHelpers = [
  defineHelper('map', [0, Infinity], (args) => {
    if (args.length % 2 !== 0) throw new Error('invalid map call');
    const entries: [string, unknown][] = [];
    for (let i = 0; i < args.length; i += 2) {
      const key = args[i];
      if (typeof key !== 'string') throw new Error('map keys must be strings');
      entries.push([key, args[i + 1]]);
    }
    // Keys in Go's map order, so `#each` visits them as `range` would.
    return Object.fromEntries(entries.sort(([a], [b]) => compareGoStrings(a, b)));
  }),
  // Anything but a list is returned unchanged, as confd does for types it does not know.
  defineHelper('reverse', 1, ([value]) =>
    Array.isArray(value) ? [...(value as unknown[])].reverse() : value,
  ),
  // Lengths are Go's: UTF-8 bytes.
  defineHelper('sortByLength', 1, (args) =>
    [...arrayArg(args, 0)].sort((a, b) => goByteLength(String(a)) - goByteLength(String(b))),
  ),
  defineHelper('sortKVByLength', 1, (args) => {
    const pairs = arrayArg(args, 0);
    if (!pairs.every(isKVPair)) throw new Error('wrong type for argument 1: expected []memkv.KVPair');
    return [...pairs].sort((a, b) => goByteLength(a.Key) - goByteLength(b.Key));
  }),
];

function isKVPair(value: unknown): value is KVPair {
  return typeof value === 'object' && value !== null && typeof (value as Partial<KVPair>).Key === 'string';
}
