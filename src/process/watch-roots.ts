import { keyIsUnder } from '../key-path.js';
import { prefixedKeys } from '../resources/load-resources.js';
import type { TemplateResource } from '../resources/template-resource.js';

/** One watched prefix and the resources that depend on something under it. */
export interface WatchRoot {
  prefix: string;
  /** The resources' store keys lying under `prefix`, sorted: what the backend is asked to watch. */
  keys: string[];
  /** Indexes into the resource list, ascending. */
  resources: number[];
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
 * dropped, so the store carries one watch per prefix however many resources share it.
 */
export function watchRoots(resources: readonly Pick<TemplateResource, 'prefix' | 'keys'>[]): WatchRoot[] {
  const own = resources.map(resourceRoots);
  const candidates = [...new Set(own.flat())].sort();
  const prefixes = candidates.filter(
    (prefix) => !candidates.some((other) => other !== prefix && keyIsUnder(prefix, other)),
  );
  return prefixes.map((prefix) => {
    const members: number[] = [];
    own.forEach((roots, index) => {
      if (roots.some((root) => keyIsUnder(root, prefix))) members.push(index);
    });
    const keys = new Set<string>();
    for (const index of members) {
      const resource = resources[index];
      if (resource) for (const key of prefixedKeys(resource)) if (keyIsUnder(key, prefix)) keys.add(key);
    }
    return { prefix, keys: [...keys].sort(), resources: members };
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
 * The resources of `root` to re-render after a change: those whose keys a changed key affects, or all of
 * them when the backend could not say what changed (`changedKeys` undefined).
 */
export function dirtyResources(
  root: WatchRoot,
  resourceKeys: readonly (readonly string[])[],
  changedKeys: readonly string[] | undefined,
): number[] {
  if (changedKeys === undefined) return [...root.resources];
  return root.resources.filter((index) =>
    changedKeys.some((changed) => changeAffects(resourceKeys[index] ?? [], changed)),
  );
}
