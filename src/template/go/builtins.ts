import { compareGoStrings } from '../go-strings.js';
import { htmlEscape, jsEscape, queryEscape } from './escapes.js';
import { isTrue } from './exec-args.js';
import type { Arg } from './fmt.js';
import { sprint, sprintln } from './fmt.js';
import { sprintf } from './fmt-printf.js';
import type { GoFunc } from './func.js';
import { FuncError } from './func.js';
import type { GoType } from './types.js';
import {
  assignableTo,
  BOOL,
  canBeNil,
  EMPTY_INTERFACE,
  INT,
  isIntKind,
  isUintKind,
  REFLECT_VALUE,
  STRING,
  UINT8,
} from './types.js';
import {
  indexSlice,
  indirect,
  indirectInterface,
  isNilValue,
  isValid,
  lengthOf,
  mapEntry,
  Value,
  zeroValue,
} from './values.js';

/**
 * text/template's builtin functions (funcs.go, Go 1.19) over values: and, or, not, call, len, index,
 * slice, the comparisons, print/printf/println and the html/js/urlquery escapers, with Go's errors.
 * `and` and `or` are evaluated lazily by the executor; their entries here only carry the signature.
 */
const ANY = REFLECT_VALUE;

function fn(params: GoType[], result: GoType, call: (args: Value[]) => Value, variadic?: GoType): GoFunc {
  return variadic ? { params, variadic, result, call } : { params, result, call };
}

/** The interface {} a Go function receives for an argument value: its content, or nil. */
export function asArg(value: Value): Arg {
  if (value.type.kind === 'interface') return (value.v as Value | null) ?? null;
  return isValid(value) ? value : null;
}

const unreachable = (): Value => {
  throw new Error('and/or are evaluated by the executor');
};

export const BUILTINS: ReadonlyMap<string, GoFunc> = new Map<string, GoFunc>([
  ['and', fn([ANY], ANY, unreachable, ANY)],
  ['or', fn([ANY], ANY, unreachable, ANY)],
  ['not', fn([ANY], BOOL, ([arg]) => new Value(BOOL, !isTrue(indirectInterface(arg as Value))))],
  ['call', fn([ANY], ANY, ([f]) => call(f as Value), ANY)],
  ['len', fn([ANY], INT, ([item]) => new Value(INT, length(item as Value)))],
  ['index', fn([ANY], ANY, ([item, ...indexes]) => index(item as Value, indexes), ANY)],
  ['slice', fn([ANY], ANY, ([item, ...indexes]) => slice(item as Value, indexes), ANY)],
  ['eq', fn([ANY], BOOL, ([a, ...others]) => new Value(BOOL, eq(a as Value, others)), ANY)],
  ['ne', fn([ANY, ANY], BOOL, ([a, b]) => new Value(BOOL, !eq(a as Value, [b as Value])))],
  ['lt', fn([ANY, ANY], BOOL, ([a, b]) => new Value(BOOL, lt(a as Value, b as Value)))],
  ['le', fn([ANY, ANY], BOOL, ([a, b]) => new Value(BOOL, le(a as Value, b as Value)))],
  ['gt', fn([ANY, ANY], BOOL, ([a, b]) => new Value(BOOL, !le(a as Value, b as Value)))],
  ['ge', fn([ANY, ANY], BOOL, ([a, b]) => new Value(BOOL, !lt(a as Value, b as Value)))],
  ['print', fn([], STRING, (args) => new Value(STRING, sprint(args.map(asArg))), EMPTY_INTERFACE)],
  ['println', fn([], STRING, (args) => new Value(STRING, sprintln(args.map(asArg))), EMPTY_INTERFACE)],
  [
    'printf',
    fn(
      [STRING],
      STRING,
      ([format, ...args]) => new Value(STRING, sprintf(format?.v as string, args.map(asArg))),
      EMPTY_INTERFACE,
    ),
  ],
  ['html', fn([], STRING, (args) => new Value(STRING, htmlEscape(evalArgs(args))), EMPTY_INTERFACE)],
  ['js', fn([], STRING, (args) => new Value(STRING, jsEscape(evalArgs(args))), EMPTY_INTERFACE)],
  ['urlquery', fn([], STRING, (args) => new Value(STRING, queryEscape(evalArgs(args))), EMPTY_INTERFACE)],
]);

/** The escapers' argument text: one string as is, else fmt.Sprint of the printable values. */
function evalArgs(values: Value[]): string {
  const args = values.map(asArg);
  if (args.length === 1 && args[0]?.type === STRING) return args[0].v as string;
  return sprint(
    args.map((arg) => {
      if (arg === null) return new Value(STRING, '<no value>');
      if (arg.type.kind === 'ptr') {
        const [target] = indirect(arg);
        return target.type.kind === 'ptr' ? null : target;
      }
      return arg;
    }),
  );
}

function call(f: Value): Value {
  const target = indirectInterface(f);
  if (!isValid(target)) throw new FuncError('call of nil');
  // Templates cannot hold functions: no Go type here is a func.
  throw new FuncError(`non-function of type ${target.type.name}`);
}

function length(item: Value): number {
  const [v, isNil] = indirect(item);
  if (isNil) throw new FuncError('len of nil pointer');
  if (!isValid(v)) throw new FuncError('reflect: call of reflect.Value.Type on zero Value');
  const kind = v.type.kind;
  if (kind === 'slice' || kind === 'map' || kind === 'string') return lengthOf(v);
  throw new FuncError(`len of type ${v.type.name}`);
}

function indexArg(index: Value, cap: number): number {
  const kind = index.type.kind;
  let x: number;
  if (isIntKind(kind) || isUintKind(kind)) x = index.v as number;
  else if (kind === 'invalid') throw new FuncError('cannot index slice/array with nil');
  else throw new FuncError(`cannot index slice/array with type ${index.type.name}`);
  if (x < 0 || x > cap) throw new FuncError(`index out of range: ${x}`);
  return x;
}

function prepareArg(value: Value, argType: GoType): Value {
  let v = value;
  if (!isValid(v)) {
    if (!canBeNil(argType)) throw new FuncError(`value is nil; should be of type ${argType.name}`);
    v = zeroValue(argType);
  }
  if (assignableTo(v.type, argType)) return v;
  const intLike = (k: string): boolean => isIntKind(k as never) || isUintKind(k as never);
  if (intLike(v.type.kind) && intLike(argType.kind)) return new Value(argType, v.v);
  throw new FuncError(`value has type ${v.type.name}; should be ${argType.name}`);
}

function index(item0: Value, indexes: Value[]): Value {
  let item = indirectInterface(item0);
  if (!isValid(item)) throw new FuncError('index of untyped nil');
  for (const index0 of indexes) {
    const idx = indirectInterface(index0);
    const [target, isNil] = indirect(item);
    if (isNil) throw new FuncError('index of nil pointer');
    item = target;
    switch (item.type.kind) {
      case 'slice':
      case 'string': {
        const n = lengthOf(item);
        const x = indexArg(idx, n);
        if (x === n) throw new FuncError(`reflect: ${item.type.kind} index out of range`);
        item =
          item.type.kind === 'string'
            ? new Value(UINT8, Buffer.from(item.v as string)[x])
            : indexSlice(item, x);
        break;
      }
      case 'map': {
        const key = prepareArg(idx, item.type.key as GoType);
        item = mapEntry(item, key.v as string) ?? zeroValue(item.type.elem as GoType);
        break;
      }
      default:
        throw new FuncError(`can't index item of type ${item.type.name}`);
    }
  }
  return item;
}

function slice(item0: Value, indexes: Value[]): Value {
  const item = indirectInterface(item0);
  if (!isValid(item)) throw new FuncError('slice of untyped nil');
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`);
  const kind = item.type.kind;
  if (kind === 'string' && indexes.length === 3) throw new FuncError('cannot 3-index slice a string');
  if (kind !== 'string' && kind !== 'slice')
    throw new FuncError(`can't slice item of type ${item.type.name}`);
  const cap = lengthOf(item);
  const idx = [0, cap, cap];
  indexes.forEach((index, i) => {
    idx[i] = indexArg(index, cap);
  });
  const [lo, hi, max] = idx as [number, number, number];
  if (lo > hi) throw new FuncError(`invalid slice index: ${lo} > ${hi}`);
  if (indexes.length === 3 && hi > max) throw new FuncError(`invalid slice index: ${hi} > ${max}`);
  if (kind === 'string')
    return new Value(
      item.type,
      Buffer.from(item.v as string)
        .subarray(lo, hi)
        .toString(),
    );
  return new Value(item.type, ((item.v ?? []) as unknown[]).slice(lo, hi));
}

type BasicKind = 'invalid' | 'bool' | 'complex' | 'int' | 'float' | 'string' | 'uint';

function basicKind(v: Value): BasicKind {
  const kind = v.type.kind;
  if (kind === 'bool') return 'bool';
  if (isIntKind(kind)) return 'int';
  if (isUintKind(kind)) return 'uint';
  if (kind === 'float64') return 'float';
  if (kind === 'complex128') return 'complex';
  if (kind === 'string') return 'string';
  return 'invalid';
}

const BAD_COMPARISON_TYPE = 'invalid type for comparison';
const BAD_COMPARISON = 'incompatible types for comparison';

function isNil(v: Value): boolean {
  return !isValid(v) || isNilValue(v);
}

function comparable(type: GoType): boolean {
  if (type.kind === 'slice' || type.kind === 'map') return false;
  if (type.kind === 'struct') return (type.fields ?? []).every((f) => comparable(f.type));
  return true;
}

function identical(a: Value, b: Value): boolean {
  if (a.type.name !== b.type.name) return false;
  if (a.type.kind === 'struct') {
    const [x, y] = [a.v as Record<string, unknown>, b.v as Record<string, unknown>];
    return (a.type.fields ?? []).every((f) => x[f.name] === y[f.name]);
  }
  return a.v === b.v;
}

function eq(arg1In: Value, arg2: Value[]): boolean {
  const arg1 = indirectInterface(arg1In);
  if (arg2.length === 0) throw new FuncError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const argIn of arg2) {
    const arg = indirectInterface(argIn);
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      // Special case: Can compare integer values regardless of type's sign.
      if ((k1 === 'int' && k2 === 'uint') || (k1 === 'uint' && k2 === 'int')) {
        truth = (arg1.v as number) >= 0 && (arg.v as number) >= 0 && arg1.v === arg.v;
      } else if (isValid(arg1) && isValid(arg)) {
        throw new FuncError(BAD_COMPARISON);
      }
    } else if (k1 === 'complex') {
      const [x, y] = [arg1.v as number[], arg.v as number[]];
      truth = x[0] === y[0] && x[1] === y[1];
    } else if (k1 === 'int' || k1 === 'uint') {
      // Integers beyond 2^53 are bigints (see exec.ts); == compares them with numbers exactly.
      truth = (arg1.v as number | bigint) == (arg.v as number | bigint);
    } else if (k1 !== 'invalid') {
      truth = arg1.v === arg.v;
    } else {
      const canCompare = arg1.type.kind === arg.type.kind || !isValid(arg1) || !isValid(arg);
      if (!canCompare) {
        throw new FuncError(
          `non-comparable types ${sprintf('%s', [arg1])}: ${arg1.type.name}, ${arg.type.name}: ${sprintf('%v', [arg])}`,
        );
      }
      if (isNil(arg1) || isNil(arg)) {
        truth = isNil(arg) === isNil(arg1);
      } else {
        if (!comparable(arg.type)) {
          throw new FuncError(`non-comparable type ${sprintf('%s', [arg])}: ${arg.type.name}`);
        }
        truth = identical(arg1, arg);
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: Value, b: Value): boolean {
  const arg1 = indirectInterface(a);
  const k1 = basicKind(arg1);
  if (k1 === 'invalid') throw new FuncError(BAD_COMPARISON_TYPE);
  const arg2 = indirectInterface(b);
  const k2 = basicKind(arg2);
  if (k2 === 'invalid') throw new FuncError(BAD_COMPARISON_TYPE);
  const [x, y] = [arg1.v as number, arg2.v as number];
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint') return x < 0 || x < y;
    if (k1 === 'uint' && k2 === 'int') return y >= 0 && x < y;
    throw new FuncError(BAD_COMPARISON);
  }
  switch (k1) {
    case 'bool':
    case 'complex':
      throw new FuncError(BAD_COMPARISON_TYPE);
    case 'string':
      return compareGoStrings(arg1.v as string, arg2.v as string) < 0;
    default:
      return x < y;
  }
}

function le(a: Value, b: Value): boolean {
  return lt(a, b) || eq(a, [b]);
}
