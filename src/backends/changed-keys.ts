/**
 * Keys created, deleted or given another value between two listings of a store, sorted: for watches on
 * stores that only let themselves be read whole (a re-read file, a Consul blocking query, a polled prefix).
 */
export function changedKeys(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): string[] {
  const changed: string[] = [];
  for (const [key, value] of after) if (before.get(key) !== value) changed.push(key);
  for (const key of before.keys()) if (!after.has(key)) changed.push(key);
  return changed.sort();
}
