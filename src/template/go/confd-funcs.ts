import { errorMessage } from '../../errors.js';
import { HELPER_SPECS } from '../helpers/helper-specs.js';
import type { HelperSpec } from '../helpers/spec.js';
import { KeyNotFoundError } from '../kv-store.js';
import { BadPatternError } from '../path-match.js';
import type { RenderContext } from '../render-context.js';
import type { GoFunc } from './func.js';
import { FuncError } from './func.js';
import { timeValue } from './methods.js';
import { goSort } from './sort.js';
import type { GoType } from './types.js';
import {
  BOOL,
  EMPTY_INTERFACE,
  INT,
  INT_SLICE,
  INTERFACE_SLICE,
  KV_PAIR,
  KV_PAIR_SLICE,
  KV_PAIRS,
  SRV_SLICE,
  STRING,
  STRING_MAP,
  STRING_SLICE,
  TIME,
} from './types.js';
import type { Value } from './values.js';
import { slotData, Value as GoValue } from './values.js';

/**
 * confd's template functions for the Go engine: the same HelperSpecs Handlebars uses, called with the
 * signatures confd declares in Go (resource/template/template_funcs.go and memkv), so arguments are
 * checked and converted as Go checks them (`replace` needs its count, `add` an int) and results carry
 * Go types (`gets` is a memkv.KVPairs, `split` a []string). A few functions whose Go behaviour hangs on
 * static types or in-place mutation (datetime, reverse, sortByLength, sortKVByLength) are written here.
 */
interface Signature {
  readonly params: readonly GoType[];
  readonly variadic?: GoType;
  readonly result: GoType;
  /** The Go function also returns an error. */
  readonly errors?: boolean;
  /** The Go function returns a nil slice rather than an empty one (`var s []T` then append). */
  readonly nilWhenEmpty?: boolean;
}

const S = STRING;

const SIGNATURES: Readonly<Record<string, Signature>> = {
  exists: { params: [S], result: BOOL },
  get: { params: [S], result: KV_PAIR, errors: true },
  gets: { params: [S], result: KV_PAIRS, errors: true },
  getv: { params: [S], variadic: S, result: S, errors: true },
  getvs: { params: [S], result: STRING_SLICE, errors: true },
  ls: { params: [S], result: STRING_SLICE },
  lsdir: { params: [S], result: STRING_SLICE },
  getenv: { params: [S], variadic: S, result: S },
  base: { params: [S], result: S },
  dir: { params: [S], result: S },
  split: { params: [S, S], result: STRING_SLICE },
  join: { params: [STRING_SLICE, S], result: S },
  toUpper: { params: [S], result: S },
  toLower: { params: [S], result: S },
  contains: { params: [S, S], result: BOOL },
  replace: { params: [S, S, S, INT], result: S },
  trimSuffix: { params: [S, S], result: S },
  json: { params: [S], result: STRING_MAP, errors: true },
  jsonArray: { params: [S], result: INTERFACE_SLICE, errors: true },
  map: { params: [], variadic: EMPTY_INTERFACE, result: STRING_MAP, errors: true },
  lookupIP: { params: [S], result: STRING_SLICE, nilWhenEmpty: true },
  lookupIPV4: { params: [S], result: STRING_SLICE, nilWhenEmpty: true },
  lookupIPV6: { params: [S], result: STRING_SLICE, nilWhenEmpty: true },
  lookupSRV: { params: [S, S, S], result: SRV_SLICE },
  fileExists: { params: [S], result: BOOL },
  base64Encode: { params: [S], result: S },
  base64Decode: { params: [S], result: S, errors: true },
  parseBool: { params: [S], result: BOOL, errors: true },
  add: { params: [INT, INT], result: INT },
  sub: { params: [INT, INT], result: INT },
  mul: { params: [INT, INT], result: INT },
  div: { params: [INT, INT], result: INT },
  mod: { params: [INT, INT], result: INT },
  seq: { params: [INT, INT], result: INT_SLICE, nilWhenEmpty: true },
  atoi: { params: [S], result: INT, errors: true },
};

/** Functions written for the Go engine; see the module comment. */
const NATIVE = ['datetime', 'reverse', 'sortByLength', 'sortKVByLength'] as const;

/** Every confd function name, for the parser's "function not defined" check. */
export const CONFD_FUNC_NAMES: ReadonlySet<string> = new Set([...Object.keys(SIGNATURES), ...NATIVE]);

/** Helper specs by name, for binding on first use. */
const SPECS: ReadonlyMap<string, HelperSpec> = new Map(HELPER_SPECS.map((spec) => [spec.name, spec]));

/**
 * The functions for one render, bound to its store, DNS answers and clock. Each is bound when the template
 * first calls it: binding all of them for every render cost more than rendering a small template.
 */
export function confdFuncs(ctx: RenderContext, monotonic: boolean): Pick<ReadonlyMap<string, GoFunc>, 'get'> {
  const bound = new Map<string, GoFunc>();
  return {
    get: (name) => {
      let fn = bound.get(name);
      if (fn === undefined) {
        fn = makeFunc(name, ctx, monotonic);
        if (fn !== undefined) bound.set(name, fn);
      }
      return fn;
    },
  };
}

function makeFunc(name: string, ctx: RenderContext, monotonic: boolean): GoFunc | undefined {
  const spec = SPECS.get(name);
  const signature = Object.hasOwn(SIGNATURES, name) ? SIGNATURES[name] : undefined;
  if (spec && signature) return bind(spec, signature, ctx);
  switch (name) {
    case 'datetime':
      return {
        params: [],
        result: TIME,
        // time.Now(): local time with a monotonic reading (which String() prints), unless the clock is fixed.
        call: () =>
          timeValue({ ms: ctx.now.getTime(), utc: false, ...(monotonic ? { mono: process.uptime() } : {}) }),
      };
    case 'reverse':
      return { params: [EMPTY_INTERFACE], result: EMPTY_INTERFACE, call: ([v]) => reverse(v as Value) };
    case 'sortByLength':
      return {
        params: [STRING_SLICE],
        result: STRING_SLICE,
        call: ([v]) => sortInPlace(v as Value, STRING_SLICE, (s: string) => Buffer.byteLength(s)),
      };
    case 'sortKVByLength':
      return {
        params: [KV_PAIR_SLICE],
        result: KV_PAIR_SLICE,
        call: ([v]) =>
          sortInPlace(v as Value, KV_PAIR_SLICE, (kv: { Key: string }) => Buffer.byteLength(kv.Key)),
      };
    default:
      return undefined;
  }
}

function bind(spec: HelperSpec, signature: Signature, ctx: RenderContext): GoFunc {
  const paramTypes = signature.params;
  return {
    params: paramTypes,
    ...(signature.variadic ? { variadic: signature.variadic } : {}),
    result: signature.result,
    returnsError: signature.errors === true,
    call: (args) => {
      const slotTypes = args.map((_, i) => paramTypes[i] ?? (signature.variadic as GoType));
      // A nil slice is an empty one to Go's functions (strings.Join(nil, ",") is "").
      let jsArgs = args.map(
        (arg, i) => slotData(slotTypes[i] as GoType, arg) ?? (slotTypes[i]?.kind === 'slice' ? [] : null),
      );
      // Variadic string defaults (getv, getenv): Go takes the first and ignores the rest.
      if (signature.variadic === STRING) jsArgs = jsArgs.slice(0, paramTypes.length + 1);
      let result: unknown;
      // json.Unmarshal of null leaves Go's map or slice nil (the helper gives Handlebars an empty one).
      if ((spec.name === 'json' || spec.name === 'jsonArray') && JSON_NULL.test(jsArgs[0] as string)) {
        return new GoValue(signature.result, null);
      }
      try {
        result = spec.call(jsArgs, ctx);
      } catch (err) {
        throw goError(err);
      }
      if (signature.nilWhenEmpty && Array.isArray(result) && result.length === 0) result = null;
      return new GoValue(signature.result, result);
    },
  };
}

/** A helper's failure as the error the Go function returns (or the panic it raises). */
const JSON_NULL = /^[ \t\r\n]*null[ \t\r\n]*$/;

function goError(err: unknown): FuncError {
  // memkv hands on path.ErrBadPattern as it is, without naming the pattern.
  const message = err instanceof BadPatternError ? 'syntax error in pattern' : errorMessage(err);
  const error = new FuncError(message === 'integer divide by zero' ? `runtime error: ${message}` : message, {
    cause: err,
  });
  if (err instanceof KeyNotFoundError) error.key = err.key;
  return error;
}

/** confd's Reverse: reverses []string and []memkv.KVPair in place; any other type (memkv.KVPairs too) is returned as is. */
function reverse(value: Value): Value {
  const dynamic = value.type.kind === 'interface' ? (value.v as Value | null) : value;
  if (dynamic && (dynamic.type === STRING_SLICE || dynamic.type === KV_PAIR_SLICE) && dynamic.v !== null) {
    (dynamic.v as unknown[]).reverse();
  }
  return new GoValue(EMPTY_INTERFACE, dynamic);
}

/** sort.Sort by byte length, in place, with Go's (unstable) algorithm so ties land where Go puts them. */
function sortInPlace<T>(value: Value, type: GoType, length: (item: T) => number): Value {
  const items = (value.v ?? []) as T[];
  goSort(items, (a, b) => length(a) < length(b));
  return new GoValue(type, value.v);
}
