import { cleanKey, keyIsUnder } from '../key-path.js';
import type { KVPairs } from './store-client.js';

/** One KV entry as Consul's recursive read returns it, Value already decoded from base64 (null when empty). */
export interface ConsulEntry {
  Key: string;
  Value: string | null;
}

/** A recursive read of everything whose Consul key starts with `consulKey`; no entries when none exist. */
export interface ConsulKvReader {
  list(consulKey: string, signal?: AbortSignal): Promise<ConsulEntry[]>;
}

/** confd keys are absolute, Consul keys have no leading slash: '/app/db' -> 'app/db', '/' -> ''. */
export function toConsulKey(key: string): string {
  return cleanKey(key).slice(1);
}

/** 'app/db' -> '/app/db', cleaned like confd's path.Join so 'a//b' reads as '/a/b'. */
export function fromConsulKey(consulKey: string): string {
  return cleanKey(`/${consulKey}`);
}

/**
 * One recursive read per requested key, all issued at once. Consul matches by string prefix, so 'app/db'
 * also returns 'app/dbx'; only keys on a '/' boundary are kept (see entryValues).
 */
export async function readValues(
  reader: ConsulKvReader,
  keys: readonly string[],
  signal?: AbortSignal,
): Promise<KVPairs> {
  const roots = [...new Set(keys.map((key) => cleanKey(key)))];
  const lists = await Promise.all(roots.map((root) => reader.list(toConsulKey(root), signal)));
  // Into one Map: a copy per root joined afterwards would hold every value twice.
  const values: KVPairs = new Map();
  roots.forEach((root, i) => entryValues(root, lists[i] ?? [], values));
  return values;
}

/**
 * The values a recursive read of `root` stands for: keys on a '/' boundary under `root` only (Consul
 * matches by string prefix); folder entries ('app/' with no value, as the UI creates them) are not values
 * and are skipped; an empty value is ''. Added to `values`, which is returned.
 */
export function entryValues(
  root: string,
  entries: readonly ConsulEntry[],
  values: KVPairs = new Map(),
): KVPairs {
  for (const entry of entries) {
    if (entry.Key.endsWith('/')) continue;
    const key = fromConsulKey(entry.Key);
    if (keyIsUnder(key, root)) values.set(key, entry.Value ?? '');
  }
  return values;
}
