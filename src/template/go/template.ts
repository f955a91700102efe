import { BUILTINS } from './builtins.js';
import { CONFD_FUNC_NAMES } from './confd-funcs.js';
import { execute } from './exec.js';
import type { Templates } from './exec.js';
import type { GoFunc } from './func.js';
import type { Tree } from './parser.js';
import { parseTemplates } from './parser.js';
import type { Value } from './values.js';

/**
 * One parsed Go template file, as confd builds it: template.New(base(src)).Funcs(confd's map).
 * ParseFiles(src). Parsing checks every function name against confd's map and the builtins; execution
 * gets the functions bound to one render.
 */
export class GoTemplate {
  private constructor(
    readonly name: string,
    private readonly trees: ReadonlyMap<string, Tree>,
  ) {}

  /** Throws ParseError with Go's message ("template: NAME:LINE: ..."). */
  static parse(name: string, text: string): GoTemplate {
    const hasFunction = (fn: string): boolean => CONFD_FUNC_NAMES.has(fn) || BUILTINS.has(fn);
    return new GoTemplate(name, parseTemplates(name, text, hasFunction));
  }

  /** Throws ExecError with Go's message ("template: NAME:LINE:COL: executing ..."). */
  execute(data: Value, funcs: Pick<ReadonlyMap<string, GoFunc>, 'get'>): string {
    const templates: Templates = {
      lookup: (name) => this.trees.get(name),
      findFunction: (name) => {
        const fn = funcs.get(name);
        if (fn) return { fn, builtin: false };
        const builtin = BUILTINS.get(name);
        return builtin ? { fn: builtin, builtin: true } : undefined;
      },
    };
    return execute(templates, this.name, data);
  }
}
