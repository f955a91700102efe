import { goTypeName } from '../go-format.js';

/**
 * Argument checks with Go template's strictness: confd's functions are typed, so a number where a string
 * belongs is an error, not a silent conversion.
 */
export function stringArg(args: readonly unknown[], index: number): string {
  const value = args[index];
  if (typeof value !== 'string') throw wrongType(index, 'string', value);
  return value;
}

export function optionalStringArg(args: readonly unknown[], index: number): string | undefined {
  return index < args.length ? stringArg(args, index) : undefined;
}

export function intArg(args: readonly unknown[], index: number): number {
  const value = args[index];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    const hint = typeof value === 'string' ? ' (convert strings with atoi)' : '';
    throw new Error(`${wrongType(index, 'int', value).message}${hint}`);
  }
  return value;
}

export function arrayArg(args: readonly unknown[], index: number): readonly unknown[] {
  const value = args[index];
  if (!Array.isArray(value)) throw wrongType(index, 'slice', value);
  return value;
}

function wrongType(index: number, expected: string, value: unknown): Error {
  return new Error(`wrong type for argument ${index + 1}: expected ${expected}; got ${goTypeName(value)}`);
}
