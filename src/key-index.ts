import type { KVPairs } from './kv-pairs.js';

/**
 * A snapshot with its keys sorted once, so that the pairs at or under a base are found by binary search.
 * A batch reads one snapshot for all its resources; without the index each resource scanned the whole of
 * it, and 2,000 resources over 2,000 keys cost four million comparisons. Keys sharing a prefix are
 * contiguous in code-unit order, which is all the index relies on.
 */
export class KeyIndex {
  private readonly sorted: string[];

  constructor(readonly pairs: Readonly<KVPairs>) {
    this.sorted = Object.keys(pairs).sort();
  }

  /** The keys at `base` or under it on a '/' boundary (keyIsUnder's rule), sorted. */
  keysUnder(base: string): readonly string[] {
    if (base === '/') return this.sorted;
    const keys: string[] = [];
    const below = base.endsWith('/') ? base : `${base}/`;
    if (below !== base && Object.hasOwn(this.pairs, base)) keys.push(base);
    for (let i = lowerBound(this.sorted, below); i < this.sorted.length; i++) {
      const key = this.sorted[i]!;
      if (!key.startsWith(below)) break;
      keys.push(key);
    }
    return keys;
  }

  /** Whether anything lies at or under `base`. */
  hasAnyUnder(base: string): boolean {
    if (base === '/') return this.sorted.length > 0;
    const below = base.endsWith('/') ? base : `${base}/`;
    if (below !== base && Object.hasOwn(this.pairs, base)) return true;
    return this.sorted[lowerBound(this.sorted, below)]?.startsWith(below) === true;
  }
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
 * The pairs of `pairs` at or under any of `bases` (keyIsUnder's rule), in the order `pairs` holds them.
 * Each key is looked up with its ancestors in a set of the bases: the cost is the number of keys times
 * their depth, not keys times bases.
 */
export function pairsUnder(pairs: Readonly<KVPairs>, bases: readonly string[]): KVPairs {
  if (bases.includes('/')) return { ...pairs };
  const wanted = new Set(bases);
  const found: KVPairs = {};
  for (const [key, value] of Object.entries(pairs)) if (isUnderAny(key, wanted)) found[key] = value;
  return found;
}

/** keyIsUnder(key, base) for some base of the set: key is a base, or its part up to a '/' (with or without it) is. */
function isUnderAny(key: string, bases: ReadonlySet<string>): boolean {
  if (bases.has(key)) return true;
  for (
    let slash = key.lastIndexOf('/');
    slash >= 0;
    slash = slash === 0 ? -1 : key.lastIndexOf('/', slash - 1)
  ) {
    if (bases.has(key.slice(0, slash)) || bases.has(key.slice(0, slash + 1))) return true;
  }
  return false;
}
