import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, errorMessage } from '../errors.js';
import { joinKey } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { findResourceFiles } from './find-resource-files.js';
import type { AccountFiles } from './resolve-owner.js';
import { parseResource } from './parse-resource.js';
import type { TemplateResource } from './template-resource.js';

export interface LoadResourcesOptions {
  confdir: string;
  /** Global key prefix ("" or "/" for none). */
  prefix: string;
  /** Where owner/group names are resolved; defaults to /etc/passwd and /etc/group (then getent). */
  accounts?: AccountFiles;
}

export interface LoadedResources {
  resources: TemplateResource[];
  /** One per conf.d file that could not be loaded; the other files still load. */
  failures: ConfigError[];
}

/**
 * Loads every `<confdir>/conf.d/**\/*.toml` in sorted order. A bad file fails alone; a missing conf.d
 * directory throws, since then there is nothing to do at all.
 */
export async function loadResources(opts: LoadResourcesOptions, logger: Logger): Promise<LoadedResources> {
  const confdir = resolve(opts.confdir);
  const files = await findResourceFiles(join(confdir, 'conf.d'));
  const resources: TemplateResource[] = [];
  const failures: ConfigError[] = [];
  for (const file of files) {
    try {
      // Synchronous on purpose: conf.d holds small local files, read like modules at start and reload.
      // readFileSync costs ~10 µs each, the promise API ~100 µs, which was most of a 2,000-resource load.
      const source = readFileSync(file, 'utf8');
      const ctx = { file, confdir, globalPrefix: opts.prefix, accounts: opts.accounts };
      resources.push(await parseResource(source, ctx, logger));
      logger.debug(`loaded template resource ${file}`);
    } catch (err) {
      failures.push(
        err instanceof ConfigError
          ? err
          : new ConfigError(`${file}: ${errorMessage(err)}`, file, undefined, undefined, { cause: err }),
      );
    }
  }
  return { resources, failures };
}

/** The store keys a resource reads: each of its keys under its (joined) prefix. Pass these to getValues. */
export function prefixedKeys(resource: Pick<TemplateResource, 'prefix' | 'keys'>): string[] {
  return resource.keys.map((key) => joinKey(resource.prefix, key));
}
