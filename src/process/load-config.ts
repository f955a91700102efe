import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfdError, ConfigError, errorMessage } from '../errors.js';
import type { ResourceRef } from '../events/events.js';
import type { Logger } from '../logging/logger.js';
import { loadResources, prefixedKeys } from '../resources/load-resources.js';
import type { TemplateResource } from '../resources/template-resource.js';
import type { CompiledTemplate } from '../template/compile-template.js';
import { removeStaleStageFiles } from '../sync/stage-file.js';
import { TemplateCache } from './template-cache.js';

/** One resource ready to render: its definition, its compiled template and what identifies a change. */
export interface LoadedResource {
  /** The resource's identity: the absolute path of its TOML file. */
  readonly id: string;
  readonly resource: TemplateResource;
  readonly template: CompiledTemplate;
  /** Store keys it reads, prefix joined. */
  readonly keys: readonly string[];
  /** Changes when the resource's definition or its template's text changes: what a reload compares. */
  readonly fingerprint: string;
  readonly ref: ResourceRef;
}

export interface LoadedConfig {
  resources: LoadedResource[];
  /** One per TOML file or template that could not be loaded; the others still load. */
  failures: ConfdError[];
}

/**
 * Reads conf.d and compiles every template, so a syntax error is found when the configuration is loaded,
 * not when a change happens to render it. Resources sharing a template share its compiled form.
 */
export async function loadConfig(confdir: string, prefix: string, logger: Logger): Promise<LoadedConfig> {
  const { resources, failures } = await loadResources({ confdir, prefix }, logger);
  const templates = new TemplateCache();
  const sources = new Map<string, Promise<string>>();
  const loaded: LoadedResource[] = [];
  const errors: ConfdError[] = [...failures];
  for (const resource of resources) {
    try {
      const [template, templateHash] = await Promise.all([
        templates.get(resource.src, resource.engine),
        memo(sources, resource.src, () => hashFile(resource.src)),
      ]);
      const keys = prefixedKeys(resource);
      loaded.push({
        id: resource.file,
        resource,
        template,
        keys,
        fingerprint: hash(`${JSON.stringify(resource)}\0${templateHash}`),
        ref: { id: resource.file, src: resource.src, dest: resource.dest, keys },
      });
    } catch (err) {
      errors.push(
        err instanceof ConfdError
          ? err
          : new ConfigError(`${resource.file}: ${errorMessage(err)}`, resource.file, undefined, undefined, {
              cause: err,
            }),
      );
    }
  }
  return { resources: loaded, failures: errors };
}

/**
 * Removes the stage files a killed run left beside these resources' destinations (only this tool's own,
 * by their exact name). Not under -noop, which writes nothing, nor -keep-stage-file, which keeps them on
 * purpose.
 */
export async function removeLeftoverStageFiles(
  resources: readonly LoadedResource[],
  modes: { noop: boolean; keepStageFile: boolean },
  logger: Logger,
): Promise<void> {
  if (modes.noop || modes.keepStageFile || resources.length === 0) return;
  await removeStaleStageFiles(
    resources.map((loaded) => loaded.resource.dest),
    logger,
  );
}

function memo<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let entry = cache.get(key);
  if (!entry) {
    entry = make();
    cache.set(key, entry);
  }
  return entry;
}

async function hashFile(path: string): Promise<string> {
  return hash(await readFile(path));
}

function hash(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
