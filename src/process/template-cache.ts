import type { CompiledTemplate } from '../template/compile-template.js';
import { compileTemplate } from '../template/compile-template.js';

/**
 * Templates are compiled once per load of conf.d: resources sharing a template share the compiled form,
 * and a reload of conf.d starts a fresh cache so edited templates are picked up.
 */
export class TemplateCache {
  private readonly compiled = new Map<string, Promise<CompiledTemplate>>();

  get(path: string): Promise<CompiledTemplate> {
    let entry = this.compiled.get(path);
    if (!entry) {
      entry = compileTemplate(path);
      this.compiled.set(path, entry);
    }
    return entry;
  }
}
