import { ConfdError } from '../errors.js';
import { compareGoStrings, sortGoStrings } from './go-strings.js';
import { goBase, goClean, goDir } from './go-path.js';
import { brandGoStructs } from './go-struct.js';
import { pathMatcher } from './path-match.js';
import { SortedPairs } from '../kv-pairs.js';

/** One key and its value, field names capitalised as in confd so templates read `{{Key}}` / `{{Value}}`. */
export interface KVPair {
  readonly Key: string;
  readonly Value: string;
}

/** get/getv on a key the store does not hold (memkv's KeyError). */
export class KeyNotFoundError extends ConfdError {
  constructor(readonly key: string) {
    super(`key does not exist: ${key}`);
  }
}

/**
 * The values a template sees, with confd's memkv semantics. Keys are absolute and already stripped of the
 * resource prefix; lookups are exact (no cleaning), as in confd. The pairs never change: one store per
 * render, which also records the keys the render missed.
 */
export class KVStore {
  /** For exact lookups; from sorted pairs, made at the first one (a range over `gets` never needs it). */
  private lookup: ReadonlyMap<string, string> | undefined;
  /** The keys in Go's order, and their values when the store was made from sorted pairs. */
  private sortedKeys: readonly string[] | undefined;
  private readonly sortedValues: readonly string[] | undefined;
  /** Keys get/getv asked for that the store lacks, with or without a default standing in. */
  private readonly misses = new Set<string>();

  /**
   * A Map (what stores read, KVPairs) or SortedPairs (KeyIndex.visiblePairs) is taken as it is: the caller
   * hands it over and must not change it. An object of literal pairs is copied.
   */
  constructor(pairs: ReadonlyMap<string, string> | SortedPairs | Readonly<Record<string, string>>) {
    if (pairs instanceof SortedPairs) {
      this.sortedKeys = pairs.keys;
      this.sortedValues = pairs.values;
    } else this.lookup = pairs instanceof Map ? pairs : new Map(Object.entries(pairs));
  }

  private get pairs(): ReadonlyMap<string, string> {
    if (this.lookup === undefined) {
      const { sortedKeys: keys = [], sortedValues: values = [] } = this;
      const lookup = new Map<string, string>();
      for (let i = 0; i < keys.length; i++) lookup.set(keys[i] as string, values[i] as string);
      this.lookup = lookup;
    }
    return this.lookup;
  }

  /** What the render asked for and did not find, sorted: shown per resource on /status. */
  missingKeys(): string[] {
    return [...this.misses].sort();
  }

  exists(key: string): boolean {
    return this.pairs.has(key);
  }

  get(key: string): KVPair {
    const value = this.pairs.get(key);
    if (value === undefined) {
      this.misses.add(key);
      throw new KeyNotFoundError(key);
    }
    return pair(key, value);
  }

  /** All pairs whose key matches the Go path.Match pattern, sorted by key. */
  gets(pattern: string): KVPair[] {
    // Validates even when the store is empty, so a bad pattern never passes silently.
    const matches = pathMatcher(pattern);
    // A match starts with the pattern's literal text up to its first * ? [ or \: only that range of the
    // sorted keys is tried, so a template calling gets per entry stays fast on large stores.
    const meta = pattern.search(/[*?[\\]/);
    const literal = meta < 0 ? pattern : pattern.slice(0, meta);
    const keys = this.sorted();
    const values = this.sortedValues;
    const found: KVPair[] = [];
    for (let i = lowerBound(keys, literal); i < keys.length; i++) {
      const key = keys[i] as string;
      if (!key.startsWith(literal)) break;
      if (matches(key)) found.push(pair(key, (values ? values[i] : this.pairs.get(key)) as string));
    }
    return found;
  }

  /** Every key, in no particular order: without making the Map or the sort that the store lacks. */
  private allKeys(): Iterable<string> {
    return this.sortedKeys ?? this.pairs.keys();
  }

  private sorted(): readonly string[] {
    this.sortedKeys ??= sortGoStrings([...this.pairs.keys()]);
    return this.sortedKeys;
  }

  /** The value of `key`; `defaultValue` when the key is missing, else a KeyNotFoundError. */
  getv(key: string, defaultValue?: string): string {
    const value = this.pairs.get(key);
    if (value !== undefined) return value;
    this.misses.add(key);
    if (defaultValue !== undefined) return defaultValue;
    throw new KeyNotFoundError(key);
  }

  /**
   * Every key whose value is exactly `value`, sorted. For error messages, which name keys instead of
   * quoting values; a linear scan, so only on the error path.
   */
  keysHolding(value: string): string[] {
    const keys: string[] = [];
    for (const [key, held] of this.pairs) if (held === value) keys.push(key);
    return sortGoStrings(keys);
  }

  /** Values of all keys matching `pattern`, sorted by value (not by key). */
  getvs(pattern: string): string[] {
    return sortGoStrings(this.gets(pattern).map((kv) => kv.Value));
  }

  /**
   * Names directly under `dir`: leaf keys and sub-directories alike, sorted and unique. As in memkv, a
   * key equal to `dir` itself contributes its own base name.
   */
  ls(dir: string): string[] {
    const prefix = terms(dir);
    const names = new Set<string>();
    for (const key of this.allKeys()) {
      if (key === dir) {
        names.add(goBase(key));
        continue;
      }
      if (startsWithTerms(terms(goDir(key)), prefix)) {
        names.add(stripKey(key, dir).split('/')[0] as string);
      }
    }
    return sortGoStrings([...names]);
  }

  /** Names directly under `dir` that are directories (have keys below them), sorted and unique. */
  lsdir(dir: string): string[] {
    const prefix = terms(dir);
    const names = new Set<string>();
    for (const key of this.allKeys()) {
      if (!key.startsWith(dir)) continue;
      const parents = terms(goDir(key));
      if (parents.length > prefix.length && startsWithTerms(parents, prefix)) {
        names.add(parents[prefix.length] as string);
      }
    }
    return sortGoStrings([...names]);
  }
}

/** The first index whose key is not below `prefix` in Go's byte order. */
function lowerBound(keys: readonly string[], prefix: string): number {
  let [lo, hi] = [0, keys.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareGoStrings(keys[mid] as string, prefix) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A KVPair as gets and get build it: own enumerable Key and Value only, like the object literal it replaces. */
class GoKVPair implements KVPair {
  constructor(
    readonly Key: string,
    readonly Value: string,
  ) {}
}
brandGoStructs(GoKVPair.prototype);

function pair(key: string, value: string): KVPair {
  return new GoKVPair(key, value);
}

/**
 * Path segments of a cleaned path. memkv splits "/" into ["", ""], which makes `ls "/"` miss every
 * directory and `lsdir "/"` return nothing; treating the root as [""] lists it like any other directory.
 */
function terms(path: string): string[] {
  const clean = goClean(path);
  return clean === '/' ? [''] : clean.split('/');
}

function startsWithTerms(path: string[], prefix: string[]): boolean {
  return path.length >= prefix.length && prefix.every((term, i) => path[i] === term);
}

function stripKey(key: string, prefix: string): string {
  const rest = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  return rest.startsWith('/') ? rest.slice(1) : rest;
}
