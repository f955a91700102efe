/**
 * The Go types a template can meet, as reflect.Type would describe them: kind, printed name, element
 * types, struct fields and the few methods templates may call. The set is closed: JSON-shaped data
 * (map[string]interface {}, []interface {}, float64 ...), confd's function results (memkv.KVPair,
 * *net.SRV, time.Time ...) and template constants. Nothing else exists, so nothing else is reachable.
 */
export type Kind =
  | 'invalid'
  | 'bool'
  | 'int'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'uintptr'
  | 'float64'
  | 'complex128'
  | 'string'
  | 'interface'
  | 'slice'
  | 'map'
  | 'struct'
  | 'ptr'
  /** Go's reflect.Value: the parameter type of the builtins that take any value (len, index, eq...). */
  | 'reflect';

export interface StructField {
  readonly name: string;
  readonly type: GoType;
  readonly exported: boolean;
}

export interface GoType {
  readonly kind: Kind;
  /** reflect.Type.String(): "[]string", "map[string]interface {}", "memkv.KVPair". */
  readonly name: string;
  /** Defined (named) types are assignable only to themselves; unnamed composites also by structure. */
  readonly named: boolean;
  readonly elem?: GoType;
  readonly key?: GoType;
  readonly fields?: readonly StructField[];
  /** For defined composite types (memkv.KVPairs): the unnamed type they are defined as. */
  readonly underlying?: GoType;
}

function basic(kind: Kind, name = kind): GoType {
  return { kind, name, named: true };
}

export const INVALID_TYPE: GoType = { kind: 'invalid', name: '<invalid>', named: false };
export const BOOL = basic('bool');
export const INT = basic('int');
export const INT64 = basic('int64');
export const UINT8 = basic('uint8');
export const UINT16 = basic('uint16');
export const UINT64 = basic('uint64');
export const FLOAT64 = basic('float64');
export const COMPLEX128 = basic('complex128');
export const STRING = basic('string');
export const EMPTY_INTERFACE: GoType = { kind: 'interface', name: 'interface {}', named: false };
export const REFLECT_VALUE: GoType = { kind: 'reflect', name: 'reflect.Value', named: true };
export const ERROR: GoType = { kind: 'interface', name: 'error', named: true };

export function sliceOf(elem: GoType): GoType {
  return { kind: 'slice', name: `[]${elem.name}`, named: false, elem };
}

export function mapOf(key: GoType, elem: GoType): GoType {
  return { kind: 'map', name: `map[${key.name}]${elem.name}`, named: false, key, elem };
}

export function pointerTo(elem: GoType): GoType {
  return { kind: 'ptr', name: `*${elem.name}`, named: false, elem };
}

export function structType(name: string, fields: readonly [string, GoType][]): GoType {
  return {
    kind: 'struct',
    name,
    named: true,
    fields: fields.map(([field, type]) => ({ name: field, type, exported: /^[A-Z]/.test(field) })),
  };
}

function defined(name: string, underlying: GoType): GoType {
  return { ...underlying, name, named: true, underlying };
}

export const STRING_SLICE = sliceOf(STRING);
export const INT_SLICE = sliceOf(INT);
export const INTERFACE_SLICE = sliceOf(EMPTY_INTERFACE);
export const STRING_MAP = mapOf(STRING, EMPTY_INTERFACE);

export const KV_PAIR = structType('memkv.KVPair', [
  ['Key', STRING],
  ['Value', STRING],
]);
export const KV_PAIR_SLICE = sliceOf(KV_PAIR);
export const KV_PAIRS = defined('memkv.KVPairs', KV_PAIR_SLICE);

export const SRV = structType('net.SRV', [
  ['Target', STRING],
  ['Port', UINT16],
  ['Priority', UINT16],
  ['Weight', UINT16],
]);
export const SRV_POINTER = pointerTo(SRV);
export const SRV_SLICE = sliceOf(SRV_POINTER);

/** time.Time: a struct with unexported fields, used through its methods. */
export const TIME = structType('time.Time', [
  ['wall', UINT64],
  ['ext', INT64],
  ['loc', pointerTo(structType('time.Location', []))],
]);
export const MONTH = defined('time.Month', INT);
export const WEEKDAY = defined('time.Weekday', INT);
export const DURATION = defined('time.Duration', INT64);

/** reflect's AssignableTo for the types above. */
export function assignableTo(from: GoType, to: GoType): boolean {
  if (from === to || from.name === to.name) return true;
  if (to === EMPTY_INTERFACE) return true;
  // Identical underlying types, at least one side not a defined type: memkv.KVPairs -> []memkv.KVPair.
  if (!to.named && from.underlying?.name === to.name) return true;
  if (!from.named && to.underlying?.name === from.name) return true;
  return false;
}

const INT_KINDS: ReadonlySet<string> = new Set(['int', 'int64', 'int8', 'int16', 'int32']);
const UINT_KINDS: ReadonlySet<string> = new Set(['uint8', 'uint16', 'uint32', 'uint64', 'uint', 'uintptr']);

export function isIntKind(kind: Kind): boolean {
  return INT_KINDS.has(kind);
}

export function isUintKind(kind: Kind): boolean {
  return UINT_KINDS.has(kind);
}

/** Types whose zero value is nil (reflect's canBeNil in exec.go, reflect.Value counting as one). */
export function canBeNil(type: GoType): boolean {
  return (
    type.kind === 'interface' ||
    type.kind === 'map' ||
    type.kind === 'ptr' ||
    type.kind === 'slice' ||
    type.kind === 'reflect'
  );
}

/** Each struct type's fields by name, built on first lookup: a field is found per use, not searched. */
const fieldIndexes = new WeakMap<GoType, ReadonlyMap<string, StructField>>();

/** The field `name` of struct type `type`; undefined when it has none of that name. */
export function fieldOf(type: GoType, name: string): StructField | undefined {
  let index = fieldIndexes.get(type);
  if (index === undefined) {
    index = new Map((type.fields ?? []).map((f) => [f.name, f]));
    fieldIndexes.set(type, index);
  }
  return index.get(name);
}
