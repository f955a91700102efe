import type { KVPairs } from './store-client.js';

/**
 * Keys created, deleted or given another value between two listings of a store, sorted: for watches on
 * stores that only let themselves be read whole (a re-read file, a Consul blocking query, a polled prefix).
 */
export function changedKeys(before: KVPairs, after: KVPairs): string[] {
  const changed: string[] = [];
  for (const [key, value] of Object.entries(after)) if (before[key] !== value) changed.push(key);
  // hasOwn, not `in`: a key such as "/constructor" must not be found on Object.prototype.
  for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) changed.push(key);
  return changed.sort();
}
