import type Handlebars from 'handlebars';
import { goTruth } from '../go-truth.js';
import { HelperCallError } from '../helper-call-error.js';
import type { CallSite } from '../helper-call-error.js';

type BlockOptions = Handlebars.HelperOptions & { loc?: CallSite };

/**
 * Replaces Handlebars' `#if`, `#unless` and `#with` on `hb` with versions that decide by Go's truth, as the
 * confd templates being ported do: an empty map is false (Handlebars: true) and `#with 0` renders its
 * `{{else}}` (Handlebars: the body). Block semantics are Handlebars': `{{else}}`, `{{else if ...}}`,
 * `as |value|`, and a function condition is called first.
 */
export function registerGoConditionals(hb: typeof Handlebars): void {
  hb.registerHelper('if', function (this: unknown, ...args: unknown[]) {
    const [condition, options] = blockArgs('if', this, args);
    return goTruth(condition) ? options.fn(this) : options.inverse(this);
  });
  hb.registerHelper('unless', function (this: unknown, ...args: unknown[]) {
    const [condition, options] = blockArgs('unless', this, args);
    return goTruth(condition) ? options.inverse(this) : options.fn(this);
  });
  hb.registerHelper('with', function (this: unknown, ...args: unknown[]) {
    const [value, options] = blockArgs('with', this, args);
    if (!goTruth(value)) return options.inverse(this);
    return options.fn(value, { data: options.data as unknown, blockParams: [value] });
  });
}

function blockArgs(name: string, context: unknown, args: unknown[]): [unknown, BlockOptions] {
  const options = args.at(-1) as BlockOptions;
  const fail = (message: string): HelperCallError =>
    new HelperCallError(
      message,
      options.loc?.start.line,
      options.loc === undefined ? undefined : options.loc.start.column + 1,
    );
  // Outside a block Handlebars would call a missing options.fn: say what is meant instead of a TypeError.
  if (typeof options.fn !== 'function')
    throw fail(`"${name}" opens a block: {{#${name} ...}}...{{/${name}}}`);
  if (args.length !== 2) throw fail(`#${name} requires exactly one argument`);
  const value = args[0];
  return [typeof value === 'function' ? (value as (this: unknown) => unknown).call(context) : value, options];
}
