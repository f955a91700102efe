import { readFileSync } from 'node:fs';
import { errorMessage, TemplateError } from '../errors.js';
import type { CompiledTemplate } from './compiled-template.js';
import type { TemplateEngine } from './engine.js';
import { chooseEngine } from './engine.js';

export type { CompiledTemplate, RenderOptions } from './compiled-template.js';

/**
 * Reads and compiles a template file once, with the engine the resource names (else the run's
 * -template-engine, else the file name: .hbs is Handlebars, anything else Go, as in confd). Syntax errors
 * and unknown functions fail here, naming the file, the line and the engine that read it. Each engine
 * loads on its first template: a run with only Go templates never loads Handlebars, and the reverse.
 */
export function compileTemplate(path: string, engine?: TemplateEngine): Promise<CompiledTemplate> {
  try {
    return Promise.resolve(compileTemplateFile(readTemplateFile(path), path, engine));
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
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

/** Compiles the text of the template file at `path`, choosing the engine as compileTemplate does. */
export function compileTemplateFile(source: string, path: string, engine?: TemplateEngine): CompiledTemplate {
  const choice = chooseEngine(path, engine);
  if (choice.engine === 'go') {
    const { compileGoSource } = await import('./go/compile.js');
    return compileGoSource(source, path, choice);
  }
  const { compileHandlebarsSource } = await import('./handlebars-template.js');
  return compileHandlebarsSource(source, path, choice);
}
