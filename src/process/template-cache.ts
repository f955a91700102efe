import type { CompiledTemplate } from '../template/compile-template.js';
import { compileTemplate } from '../template/compile-template.js';
import type { TemplateEngine } from '../template/engine.js';

/**
 * Templates are compiled once per load of conf.d: resources sharing a template (and its engine) share the
 * compiled form, and a reload of conf.d starts a fresh cache so edited templates are picked up.
 */
export class TemplateCache {
  private readonly compiled = new Map<string, Promise<CompiledTemplate>>();

  get(path: string, engine?: TemplateEngine): Promise<CompiledTemplate> {
    const key = `${engine ?? ''}\0${path}`;
    let entry = this.compiled.get(key);
    if (!entry) {
      entry = compileTemplate(path, engine);
      this.compiled.set(key, entry);
    }
    return entry;
  }
}
