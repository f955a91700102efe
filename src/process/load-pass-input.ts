import { errorMessage } from '../errors.js';
import type { ConfigError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { loadResources } from '../resources/load-resources.js';
import type { TemplateResource } from '../resources/template-resource.js';
import { TemplateCache } from './template-cache.js';

export interface LoadedConfig {
  resources: TemplateResource[];
  failures: ConfigError[];
  templates: TemplateCache;
}

/** Reads conf.d afresh; every load gets its own template cache so edited templates are recompiled. */
export async function loadConfdir(confdir: string, prefix: string, logger: Logger): Promise<LoadedConfig> {
  const { resources, failures } = await loadResources({ confdir, prefix }, logger);
  for (const failure of failures) logger.error(errorMessage(failure));
  if (resources.length === 0 && failures.length === 0)
    logger.warn(`no template resources found in ${confdir}/conf.d`);
  return { resources, failures, templates: new TemplateCache() };
}
