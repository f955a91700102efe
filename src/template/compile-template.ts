import { readFileSync } from 'node:fs';
import { errorMessage, TemplateError } from '../errors.js';
import type { CompiledTemplate } from './compiled-template.js';
import type { TemplateEngine } from './engine.js';
import type * as GoCompile from './go/compile.js';
import type * as HandlebarsCompile from './handlebars-template.js';
import { chooseEngine } from './engine.js';

export type { CompiledTemplate, RenderOptions } from './compiled-template.js';

// Type-only: erased from the output, so neither engine loads before a template needs it.
type GoEngine = typeof GoCompile;
type HandlebarsEngine = typeof HandlebarsCompile;

/** The engines loaded so far: each is imported on the first template that needs it. */
const engines: { go?: GoEngine; handlebars?: HandlebarsEngine } = {};

/**
 * Loads the engines these templates need (a run with only Go templates never loads Handlebars, and the
 * reverse), so that compiling them afterwards is synchronous.
 */
export async function loadEngines(
  templates: Iterable<{ readonly src: string; readonly engine?: TemplateEngine | undefined }>,
): Promise<void> {
  const needed = new Set<TemplateEngine>();
  for (const { src, engine } of templates) needed.add(chooseEngine(src, engine).engine);
  if (needed.has('go')) engines.go ??= await import('./go/compile.js');
  if (needed.has('handlebars')) engines.handlebars ??= await import('./handlebars-template.js');
}

/**
 * Reads and compiles a template file once, with the engine the resource names (else the run's
 * -template-engine, else the file name: .hbs is Handlebars, anything else Go, as in confd). Syntax errors
 * and unknown functions fail here, naming the file, the line and the engine that read it.
 */
export async function compileTemplate(path: string, engine?: TemplateEngine): Promise<CompiledTemplate> {
  await loadEngines([{ src: path, engine }]);
  return compileTemplateFile(readTemplateFile(path), path, engine);
}

/**
 * The text of a template file; a TemplateError naming it when it cannot be read. Synchronous on purpose:
 * templates are small local files read at start and reload, where readFileSync costs ~10 µs and the
 * promise API ~100 µs (most of loading 2,000 resources).
 */
export function readTemplateFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TemplateError(
      `${path}: cannot read template: ${errorMessage(err)}`,
      path,
      undefined,
      undefined,
      {
        cause: err,
      },
    );
  }
}

/**
 * Compiles the text of the template file at `path`, choosing the engine as compileTemplate does. Its
 * engine must have been loaded (loadEngines).
 */
export function compileTemplateFile(source: string, path: string, engine?: TemplateEngine): CompiledTemplate {
  const choice = chooseEngine(path, engine);
  if (choice.engine === 'go') return loaded(engines.go, choice.engine).compileGoSource(source, path, choice);
  return loaded(engines.handlebars, choice.engine).compileHandlebarsSource(source, path, choice);
}

function loaded<T>(engine: T | undefined, name: TemplateEngine): T {
  if (engine === undefined) throw new Error(`the ${name} template engine was not loaded (loadEngines)`);
  return engine;
}
