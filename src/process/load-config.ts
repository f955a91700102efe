import { ConfdError, ConfigError, errorMessage } from '../errors.js';
import type { ResourceRef } from '../events/events.js';
import type { Logger } from '../logging/logger.js';
import { loadResources, prefixedKeys } from '../resources/load-resources.js';
import type { TemplateResource } from '../resources/template-resource.js';
import type { CompiledTemplate } from '../template/compile-template.js';
import { compileTemplateFile, loadEngines, readTemplateFile } from '../template/compile-template.js';
import { removeStaleStageFiles } from '../sync/stage-file.js';

/** One resource ready to render: its definition, its compiled template and what identifies a change. */
export interface LoadedResource {
  /** The resource's identity: the absolute path of its TOML file. */
  readonly id: string;
  readonly resource: TemplateResource;
  readonly template: CompiledTemplate;
  /** Store keys it reads, prefix joined. */
  readonly keys: readonly string[];
  /** What a reload compares (sameFingerprint): the resource's definition and its template's text. */
  readonly fingerprint: Fingerprint;
  readonly ref: ResourceRef;
}

/**
 * The text itself rather than a hash of it: the resources sharing a template share the one string, and
 * comparing two strings costs less than hashing them (node:crypto's load alone was ~4 ms of a cold start).
 */
export interface Fingerprint {
  /** The resource's definition as loaded (JSON). */
  readonly definition: string;
  /** The template text that was compiled. */
  readonly templateText: string;
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.definition === b.definition && a.templateText === b.templateText;
}

export interface LoadedConfig {
  resources: LoadedResource[];
  /** One per TOML file or template that could not be loaded; the others still load. */
  failures: ConfdError[];
}

/**
 * Reads conf.d and compiles every template, so a syntax error is found when the configuration is loaded,
 * not when a change happens to render it. Each template file is read once per load and resources sharing a
 * template (and engine) share its compiled form; the fingerprint holds the very text that was compiled.
 */
export async function loadConfig(confdir: string, prefix: string, logger: Logger): Promise<LoadedConfig> {
  const { resources, failures } = await loadResources({ confdir, prefix }, logger);
  await loadEngines(resources);
  const sources = new Map<string, Outcome<string>>();
  const compiled = new Map<string, Outcome<CompiledTemplate>>();
  const loaded: LoadedResource[] = [];
  const errors: ConfdError[] = [...failures];
  for (const resource of resources) {
    try {
      const text = memo(sources, resource.src, () => readTemplateFile(resource.src));
      const template = memo(compiled, `${resource.engine ?? ''}\0${resource.src}`, () =>
        compileTemplateFile(text, resource.src, resource.engine),
      );
      const keys = prefixedKeys(resource);
      loaded.push({
        id: resource.file,
        resource,
        template,
        keys,
        fingerprint: { definition: JSON.stringify(resource), templateText: text },
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

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** `make()` once per key; a failure is remembered too, so every resource sharing the file reports it. */
function memo<T>(cache: Map<string, Outcome<T>>, key: string, make: () => T): T {
  let entry = cache.get(key);
  if (!entry) {
    try {
      entry = { ok: true, value: make() };
    } catch (error) {
      entry = { ok: false, error };
    }
    cache.set(key, entry);
  }
  if (entry.ok) return entry.value;
  throw entry.error;
}
