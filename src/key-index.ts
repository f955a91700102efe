import { cleanKey, keyIsUnder, stripPrefix, UNCLEAN_PART } from './key-path.js';
import { SortedPairs, type KVPairs } from './kv-pairs.js';

/**
 * A snapshot with its keys sorted once, so that the pairs at or under a base are found by binary search.
 * A batch reads one snapshot for all its resources; without the index each resource scanned the whole of
 * it, and 2,000 resources over 2,000 keys cost four million comparisons. Keys sharing a prefix are
 * contiguous in code-unit order, which is all the index relies on.
 */
export class KeyIndex {
  private readonly sorted: string[];

  constructor(readonly pairs: ReadonlyMap<string, string>) {
    this.sorted = sortedKeys(pairs);
  }

  /** The keys at `base` or under it on a '/' boundary (keyIsUnder's rule), sorted. */
  keysUnder(base: string): readonly string[] {
    return this.rangesUnder([base]).flatMap(([from, to]) => this.sorted.slice(from, to));
  }

  /**
   * The pairs at or under any of `bases`, keyed as a template sees them: relative to `prefix`, cleaned
   * (stripPrefix), the last of two keys that clean alike winning, exactly as confd's memkv store holds
   * them. The bases are a resource's keys, under its prefix. A Map, made key by key; but for more than a
   * few keys, when all of them are clean and below the U+D800 surrogates (nearly always), the keys come
   * out of the index already in Go's order and unique with only the prefix cut off, and the answer is two
   * arrays (SortedPairs): no Map, cleaning or sort per key, which at 100,000 keys cost more than the read
   * of them. A few keys keep the Map: the template's lookups would make one of the arrays anyway.
   */
  visiblePairs(prefix: string, bases: readonly string[]): SortedPairs | KVPairs {
    const ranges = this.rangesUnder(bases);
    let count = 0;
    for (const [from, to] of ranges) count += to - from;
    if (count > FEW_VISIBLE) {
      const sorted = this.sortedIn(merged(ranges), prefix, bases);
      if (sorted) return sorted;
    }
    return this.mappedIn(ranges, prefix);
  }

  private sortedIn(
    ranges: ReadonlyArray<readonly [number, number]>,
    prefix: string,
    bases: readonly string[],
  ): SortedPairs | undefined {
    const clean = (key: string): boolean => cleanKey(key) === key;
    if (!clean(prefix) || !bases.every((base) => clean(base) && keyIsUnder(base, prefix))) return undefined;
    const cut = prefix === '/' ? 0 : prefix.length;
    const keys: string[] = [];
    const values: string[] = [];
    for (const [from, to] of ranges) {
      for (let i = from; i < to; i++) {
        const key = this.sorted[i]!;
        if (key.charCodeAt(0) !== 0x2f || NOT_AS_STORED.test(key)) return undefined;
        keys.push(key.length === cut ? '/' : key.slice(cut));
        values.push(this.pairs.get(key)!);
      }
    }
    return new SortedPairs(keys, values);
  }

  /** In the order of `ranges` (base by base, as keysUnder lists them), so that the last key set wins. */
  private mappedIn(ranges: ReadonlyArray<readonly [number, number]>, prefix: string): KVPairs {
    const visible: KVPairs = new Map();
    for (const [from, to] of ranges) {
      for (let i = from; i < to; i++) {
        const key = this.sorted[i]!;
        visible.set(stripPrefix(key, prefix), this.pairs.get(key)!);
      }
    }
    return visible;
  }

  /**
   * Index ranges [from, to) of the keys at or under each of `bases` (keysUnder's rule and order): base by
   * base, a base's own key first, then the keys below it.
   */
  private rangesUnder(bases: readonly string[]): Array<[number, number]> {
    const { sorted } = this;
    const ranges: Array<[number, number]> = [];
    for (const base of bases) {
      if (base === '/') {
        ranges.push([0, sorted.length]);
        continue;
      }
      const below = base.endsWith('/') ? base : `${base}/`;
      const from = lowerBound(sorted, below);
      // Usually just before the keys under it; a key such as `${base}-x` may sort between them.
      if (below !== base && this.pairs.has(base)) {
        const at = sorted[from - 1] === base ? from - 1 : lowerBound(sorted, base);
        ranges.push([at, at + 1]);
      }
      let to = from;
      while (to < sorted.length && sorted[to]!.startsWith(below)) to++;
      if (to > from) ranges.push([from, to]);
    }
    return ranges;
  }

  /** Whether anything lies at or under `base`. */
  hasAnyUnder(base: string): boolean {
    if (base === '/') return this.sorted.length > 0;
    const below = base.endsWith('/') ? base : `${base}/`;
    if (below !== base && this.pairs.has(base)) return true;
    return this.sorted[lowerBound(this.sorted, below)]?.startsWith(below) === true;
  }
}

/**
 * The keys in code-unit order. Most stores answer in key order already (etcd and Consul in bytes, which is
 * the same order unless a key holds a character above U+FFFF): one pass finds that, where a sort of
 * 10,000 keys, even of sorted ones, cost more than a millisecond.
 */
function sortedKeys(pairs: ReadonlyMap<string, string>): string[] {
  const keys = [...pairs.keys()];
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return keys.sort();
  return keys;
}

/** The first index whose key is not below `target`. */
function lowerBound(sorted: readonly string[], target: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * What keeps a stored key from being the key a template sees once the prefix is cut off: a part that
 * cleaning changes (key-path.ts's UNCLEAN_PART), or a surrogate, which sorts differently in Go's order
 * than in JavaScript's. One expression, tested once per key.
 */
const NOT_AS_STORED = new RegExp(`${UNCLEAN_PART.source}|[\\ud800-\\udfff]`);

/** Index ranges in index order, overlapping ones joined: each key once, in the index's order. */
function merged(ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const inOrder = ranges.every((range, i) => i === 0 || ranges[i - 1]![0] <= range[0]);
  const sorted = inOrder ? ranges : [...ranges].sort((a, b) => a[0] - b[0]);
  const joined: Array<[number, number]> = [];
  for (const [from, to] of sorted) {
    const last = joined.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else joined.push([from, to]);
  }
  return joined;
}

/** Up to this many keys, a resource's part of a snapshot is a Map (visiblePairs). */
const FEW_VISIBLE = 32;

/** Up to this many bases, each key is tested against each base. */
const FEW_BASES = 4;

/**
 * The pairs of `pairs` at or under any of `bases` (keyIsUnder's rule), in the order `pairs` holds them.
 * Each key is looked up with its ancestors in a set of the bases (coveringBase): the cost is the number of
 * keys times their depth, not keys times bases.
 */
export function pairsUnder(pairs: ReadonlyMap<string, string>, bases: readonly string[]): KVPairs {
  if (bases.includes('/')) return new Map(pairs);
  const found: KVPairs = new Map();
  // A resource names a few bases: testing each is cheaper than coveringBase's slices of every key.
  if (bases.length <= FEW_BASES) {
    const below = bases.map((base) => (base.endsWith('/') ? base : `${base}/`));
    for (const [key, value] of pairs) {
      for (let i = 0; i < bases.length; i++) {
        if (key === bases[i] || key.startsWith(below[i]!)) {
          found.set(key, value);
          break;
        }
      }
    }
    return found;
  }
  const wanted = new Set(bases);
  for (const [key, value] of pairs) if (coveringBase(key, wanted) !== undefined) found.set(key, value);
  return found;
}

/**
 * A base of the set that `key` lies at or under (keyIsUnder's rule), or undefined: the key itself, or its
 * part up to one of its '/' (with or without that slash), is in the set. `strict`: a base other than the
 * key itself. Costs the depth of the key, whatever the size of the set.
 */
export function coveringBase(
  key: string,
  bases: ReadonlySet<string>,
  { strict = false }: { strict?: boolean } = {},
): string | undefined {
  if (bases.has('/') && !(strict && key === '/')) return '/';
  if (!strict && bases.has(key)) return key;
  for (
    let slash = key.lastIndexOf('/');
    slash >= 0;
    slash = slash === 0 ? -1 : key.lastIndexOf('/', slash - 1)
  ) {
    for (const base of [key.slice(0, slash), key.slice(0, slash + 1)])
      if (base !== key && bases.has(base)) return base;
  }
  return undefined;
}
