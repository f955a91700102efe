import type { RenderContext } from '../render-context.js';

/**
 * One template function: its confd name, how many arguments it takes and what it does. Arguments arrive
 * without Handlebars' trailing options object; errors thrown here are reported with template and line.
 */
export interface HelperSpec {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly call: (args: readonly unknown[], ctx: RenderContext) => unknown;
}

export function defineHelper(
  name: string,
  arity: number | [min: number, max: number],
  call: HelperSpec['call'],
): HelperSpec {
  const [minArgs, maxArgs] = typeof arity === 'number' ? [arity, arity] : arity;
  return { name, minArgs, maxArgs, call };
}
