import { goTypeName } from '../go-format.js';
import { compareGoStrings, goByteLength } from '../go-strings.js';
import { isGoStruct } from '../go-struct.js';
import { goTruth } from '../go-truth.js';
import { defineHelper } from './spec.js';

/** text/template's built-in functions that confd templates lean on, with Go's rules. */
export const goBuiltinHelpers = [
  defineHelper('len', 1, ([value]) => goLen(value)),
  defineHelper('index', [1, Infinity], ([collection, ...keys]) => keys.reduce(indexOnce, collection)),
  // eq a b c: a equals b or c.
  defineHelper('eq', [2, Infinity], ([first, ...others]) => others.some((other) => goEqual(first, other))),
  defineHelper('ne', 2, ([a, b]) => !goEqual(a, b)),
  defineHelper('lt', 2, ([a, b]) => goCompare(a, b) < 0),
  defineHelper('le', 2, ([a, b]) => goCompare(a, b) <= 0),
  defineHelper('gt', 2, ([a, b]) => goCompare(a, b) > 0),
  defineHelper('ge', 2, ([a, b]) => goCompare(a, b) >= 0),
  // and/or return one of their arguments, not a boolean: the first that decides, else the last.
  defineHelper('and', [1, Infinity], (args) => args.find((v) => !goTruth(v)) ?? args[args.length - 1]),
  defineHelper('or', [1, Infinity], (args) => args.find((v) => goTruth(v)) ?? args[args.length - 1]),
  defineHelper('not', 1, ([value]) => !goTruth(value)),
];

function goLen(value: unknown): number {
  if (typeof value === 'string') return goByteLength(value);
  if (Array.isArray(value)) return value.length;
  if (typeof value === 'object' && value !== null && !isGoStruct(value)) return Object.keys(value).length;
  throw new Error(`len of type ${goTypeName(value)}`);
}

function indexOnce(item: unknown, key: unknown): unknown {
  if (item === undefined || item === null) throw new Error('index of untyped nil');
  if (typeof item === 'string' || Array.isArray(item)) {
    if (typeof key !== 'number' || !Number.isSafeInteger(key)) {
      throw new Error(`cannot index slice/array with type ${goTypeName(key)}`);
    }
    // Go indexes strings by byte and yields the byte's value.
    const sequence = typeof item === 'string' ? Buffer.from(item, 'utf8') : item;
    if (key < 0 || key >= sequence.length) throw new Error(`index out of range: ${key}`);
    return sequence[key];
  }
  if (typeof item === 'object' && !isGoStruct(item)) {
    if (typeof key !== 'string') throw new Error(`value has type ${goTypeName(key)}; should be string`);
    // A missing map key yields the zero value, not an error.
    return Object.hasOwn(item, key) ? (item as Record<string, unknown>)[key] : undefined;
  }
  throw new Error(`can't index item of type ${goTypeName(item)}`);
}

type BasicKind = 'string' | 'number' | 'boolean';

function basicKind(value: unknown): BasicKind | undefined {
  const kind = typeof value;
  return kind === 'string' || kind === 'number' || kind === 'boolean' ? kind : undefined;
}

function goEqual(a: unknown, b: unknown): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  const [ka, kb] = [basicKind(a), basicKind(b)];
  if (!ka || !kb) throw new Error(`invalid type for comparison: ${goTypeName(ka ? b : a)}`);
  if (ka !== kb) throw new Error(`incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
  return a === b;
}

function goCompare(a: unknown, b: unknown): number {
  const [ka, kb] = [basicKind(a), basicKind(b)];
  if (ka === 'boolean' || kb === 'boolean' || !ka || !kb) {
    throw new Error(`invalid type for comparison: ${goTypeName(ka && ka !== 'boolean' ? b : a)}`);
  }
  if (ka !== kb) throw new Error(`incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
  if (ka === 'string') return compareGoStrings(a as string, b as string);
  return Math.sign((a as number) - (b as number));
}
