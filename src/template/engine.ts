import { UsageError } from '../errors.js';

/**
 * Which engine renders a template. A resource's own `engine` key wins; otherwise the global
 * -template-engine setting, when it names one; otherwise the file name decides as in confd, where every
 * template is Go: `.hbs` / `.handlebars` are Handlebars, anything else (`.tmpl`, `.conf`, none) is Go.
 */
export type TemplateEngine = 'go' | 'handlebars';
export type EngineSetting = 'auto' | TemplateEngine;

export const TEMPLATE_ENGINES: readonly TemplateEngine[] = ['go', 'handlebars'];

const HANDLEBARS_EXTENSION = /\.(hbs|handlebars)$/i;

/** The engine setting for the whole run; set once at start by the CLI. */
let defaultSetting: EngineSetting = 'auto';

/**
 * Applies -template-engine (confd.toml `template_engine`, CONFD_TEMPLATE_ENGINE). An unknown value is a
 * usage error naming the setting in all three spellings.
 */
export function configureTemplateEngine(value: string | undefined): void {
  const setting = value === undefined || value === '' ? 'auto' : value.toLowerCase();
  if (setting !== 'auto' && setting !== 'go' && setting !== 'handlebars') {
    throw new UsageError(
      `-template-engine (template_engine, CONFD_TEMPLATE_ENGINE) must be auto, go or handlebars, got "${value}"`,
      'template-engine',
    );
  }
  defaultSetting = setting;
}

export interface EngineChoice {
  readonly engine: TemplateEngine;
  /** What decided: the resource's `engine` key, the run's -template-engine, or the file name. */
  readonly by: 'resource' | 'setting' | 'name';
}

/** The engine for the template at `path`: the resource's choice, else the run's setting, else by name. */
export function chooseEngine(path: string, explicit?: TemplateEngine): EngineChoice {
  if (explicit) return { engine: explicit, by: 'resource' };
  if (defaultSetting !== 'auto') return { engine: defaultSetting, by: 'setting' };
  return { engine: HANDLEBARS_EXTENSION.test(path) ? 'handlebars' : 'go', by: 'name' };
}

const ENGINE_NAMES: Readonly<Record<TemplateEngine, string>> = {
  go: 'a Go text/template',
  handlebars: 'a Handlebars template',
};

/**
 * Appended to a parse error: which engine read the file, why, and how to choose the other one. Users who
 * named Handlebars templates `.tmpl` before the Go engine existed meet this first.
 */
export function engineHint({ engine, by }: EngineChoice): string {
  const other: TemplateEngine = engine === 'go' ? 'handlebars' : 'go';
  const why =
    by === 'resource'
      ? `its resource sets engine = "${engine}"`
      : by === 'setting'
        ? `-template-engine is ${engine}`
        : engine === 'go'
          ? 'its name does not end in .hbs'
          : 'its name ends in .hbs';
  return ` (parsed as ${ENGINE_NAMES[engine]} because ${why}; for ${ENGINE_NAMES[other]}, set engine = "${other}" in the resource's [template] table)`;
}
