import { readFile } from 'node:fs/promises';
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
export async function compileTemplate(path: string, engine?: TemplateEngine): Promise<CompiledTemplate> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
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
  const choice = chooseEngine(path, engine);
  if (choice.engine === 'go') {
    const { compileGoSource } = await import('./go/compile.js');
    return compileGoSource(source, path, choice);
  }
  const { compileHandlebarsSource } = await import('./handlebars-template.js');
  return compileHandlebarsSource(source, path, choice);
}
