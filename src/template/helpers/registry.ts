import type Handlebars from 'handlebars';
import { formatValue } from '../go-format.js';
import { HelperCallError } from '../helper-call-error.js';
import type { CallSite } from '../helper-call-error.js';
import type { RenderContext } from '../render-context.js';
import { renderBlock } from './block.js';
import { HELPER_SPECS } from './helper-specs.js';
import type { HelperSpec } from './spec.js';

/**
 * Writes a value into the output the way Go's template would print it ("[a b]" for lists, "map[k:v]" for
 * maps); nothing for a missing value. compile-template routes every `{{expression}}` through it.
 */
export const PRINT_HELPER = '__confdPrint';

type HelperOptions = Handlebars.HelperOptions & { name: string; loc?: CallSite };
type Helper = (this: unknown, ...params: unknown[]) => unknown;

/** The helpers for one render, bound to its context. */
export function createHelpers(ctx: RenderContext): Record<string, Helper> {
  const helpers: Record<string, Helper> = {};
  for (const spec of HELPER_SPECS) helpers[spec.name] = bind(spec, ctx);
  helpers[PRINT_HELPER] = (value: unknown) =>
    value === undefined || value === null ? '' : formatValue(value);
  helpers.helperMissing = (...params: unknown[]) => {
    const options = params.pop() as HelperOptions;
    // Called with no arguments, Handlebars is resolving a plain `{{name}}` that matched nothing.
    if (params.length === 0) return undefined;
    throw new HelperCallError(`unknown helper "${options.name}"`, options.loc?.start.line);
  };
  return helpers;
}

function bind(spec: HelperSpec, ctx: RenderContext): Helper {
  return function (this: unknown, ...params: unknown[]): unknown {
    const options = params.pop() as HelperOptions;
    const block = typeof options.fn === 'function';
    // Go's `{{.dir}}` ports to `{{dir}}`: a helper that cannot run without arguments yields to the
    // current object's field of that name. Helpers that can (`datetime`, `map`) stay helpers.
    if (params.length === 0 && spec.minArgs > 0 && hasOwnField(this, spec.name)) {
      const field = this[spec.name];
      return block ? renderBlock(field, this, options) : field;
    }
    let result: unknown;
    try {
      if (Object.keys(options.hash ?? {}).length > 0)
        throw new Error('named (key=value) arguments are not supported');
      if (params.length < spec.minArgs || params.length > spec.maxArgs)
        throw new Error(arityMessage(spec, params.length));
      result = spec.call(params, ctx);
    } catch (err) {
      throw HelperCallError.from(err, spec.name, options.loc);
    }
    return block ? renderBlock(result, this, options) : result;
  };
}

function arityMessage(spec: HelperSpec, got: number): string {
  const { minArgs: min, maxArgs: max } = spec;
  const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
  // Only reached for a bare `{{dir}}` where the current object has no `dir`: perhaps a field was meant.
  const hint = got === 0 ? ` (for a field named "${spec.name}", write {{this.${spec.name}}})` : '';
  return `wrong number of args: want ${want}, got ${got}${hint}`;
}

function hasOwnField(context: unknown, name: string): context is Record<string, unknown> {
  return typeof context === 'object' && context !== null && Object.hasOwn(context, name);
}
