import type { CompiledTemplate } from './compiled-template.js';
import type { TemplateEngine } from './engine.js';
import { compileGoSource } from './go/compile.js';
import { compileHandlebarsSource } from './handlebars-template.js';

/**
 * Compiles template text with the given engine (Handlebars unless told); `path` names it in errors.
 * Synchronous, so it loads both engines up front: for tests and library callers with text in hand. A run
 * compiles files through compileTemplate, which loads each engine only when a template needs it.
 */
export function compileTemplateSource(
  source: string,
  path: string,
  engine: TemplateEngine = 'handlebars',
): CompiledTemplate {
  return engine === 'go' ? compileGoSource(source, path) : compileHandlebarsSource(source, path);
}
