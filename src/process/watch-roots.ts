import { coveringBase } from '../key-index.js';
import { keyIsUnder } from '../key-path.js';
import { prefixedKeys } from '../resources/load-resources.js';
import type { TemplateResource } from '../resources/template-resource.js';

/** What watch-roots needs of a resource: its identity, prefix and keys. */
export interface RootMember {
  id: string;
  resource: Pick<TemplateResource, 'prefix' | 'keys'>;
}

/** One watched prefix and the resources that depend on something under it. */
export interface WatchRoot {
  prefix: string;
  /** The resources' store keys lying under `prefix`, sorted: what the watch reports changes to. */
  keys: string[];
  /** Ids of the resources under it, in the order given. */
  members: string[];
}

/**
 * The prefixes a resource needs watched: its prefix when it has one, else each of its store keys. A key
 * that `..` lifts out of the prefix is added on its own, so no key the template reads goes unwatched.
 */
export function resourceRoots(resource: Pick<TemplateResource, 'prefix' | 'keys'>): string[] {
  const keys = prefixedKeys(resource);
  if (resource.prefix === '/') return keys;
  return [resource.prefix, ...keys.filter((key) => !keyIsUnder(key, resource.prefix))];
}

/**
 * The fewest prefixes that cover every resource: deduplicated, and a prefix lying under another one is
 * dropped, so the store carries one watch per prefix however many resources share it. Prefixes are found
 * by set lookups on each root's ancestors, so 1,000 resources with their own prefixes cost 1,000 lookups,
 * not a million comparisons.
 */
export function watchRoots(resources: readonly RootMember[]): WatchRoot[] {
  const own = resources.map((member) => ({ member, roots: resourceRoots(member.resource) }));
  const candidates = new Set(own.flatMap((o) => o.roots));
  const prefixes = [...candidates]
    .filter((prefix) => coveringBase(prefix, candidates, { strict: true }) === undefined)
    .sort();
  const kept = new Set(prefixes);
  const found = new Map(
    prefixes.map((prefix) => [prefix, { members: [] as string[], keys: new Set<string>() }]),
  );
  for (const { member, roots } of own) {
    // Kept prefixes never nest, so each root and key lies under exactly one of them.
    const covering = new Set(roots.map((root) => coveringBase(root, kept)));
    for (const prefix of covering) if (prefix !== undefined) found.get(prefix)?.members.push(member.id);
    for (const key of prefixedKeys(member.resource)) {
      const prefix = coveringBase(key, kept);
      if (prefix !== undefined) found.get(prefix)?.keys.add(key);
    }
  }
  return prefixes.map((prefix) => {
    const { members, keys } = found.get(prefix)!;
    return { prefix, keys: [...keys].sort(), members };
  });
}

/**
 * Whether a change to `changedKey` can alter what a resource reading `keys` renders: the changed key is one
 * of them, lies under one (a value the template reads), or lies above one (a subtree deleted or replaced
 * as a whole).
 */
export function changeAffects(keys: readonly string[], changedKey: string): boolean {
  return keys.some((key) => keyIsUnder(changedKey, key) || keyIsUnder(key, changedKey));
}

/**
 * The members of `root` to re-render after a change: those whose keys a changed key affects, or all of
 * them when the backend could not say what changed (`changedKeys` undefined).
 */
export function dirtyMembers(
  root: WatchRoot,
  keysOf: (id: string) => readonly string[],
  changedKeys: readonly string[] | undefined,
): string[] {
  if (changedKeys === undefined) return [...root.members];
  return root.members.filter((id) => changedKeys.some((changed) => changeAffects(keysOf(id), changed)));
}
