import type { GoType } from './types.js';
import type { Value } from './values.js';

/**
 * A function or method as the executor calls it: Go's signature (parameter types, a variadic tail,
 * one result, optionally an error) and an implementation over values. Arguments are checked and
 * converted against the signature before `call` runs, exactly as reflect.Call would require; `call`
 * throws an Error for the error result ("error calling NAME: ...").
 */
export interface GoFunc {
  readonly params: readonly GoType[];
  /** The element type of a final ...T parameter. */
  readonly variadic?: GoType;
  readonly result: GoType;
  readonly returnsError?: boolean;
  /** A second result that is not an error: Go refuses to call such a function from a template. */
  readonly results?: number;
  readonly call: (args: Value[]) => Value;
}

/** Number of declared parameters, counting a variadic one: reflect.Type.NumIn(). */
export function numIn(fn: GoFunc): number {
  return fn.params.length + (fn.variadic ? 1 : 0);
}

/** An error a function returns (as opposed to a template execution error). */
export class FuncError extends Error {
  override name = 'FuncError';
  /** The store key a lookup failed on, for TemplateError.key. */
  key?: string;
}
