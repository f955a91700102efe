import { sortGoStrings } from '../go-strings.js';
import type { GoType } from './types.js';
import {
  BOOL,
  EMPTY_INTERFACE,
  FLOAT64,
  INTERFACE_SLICE,
  INVALID_TYPE,
  isIntKind,
  fieldOf,
  isUintKind,
  STRING,
  STRING_MAP,
} from './types.js';

/**
 * A Go value as reflect.Value holds it: a type and the JavaScript data for it. Containers keep plain
 * data for their elements (strings, numbers, arrays, own-property objects), typed by the container's
 * element type; an interface {} slot holds JSON-shaped data typed by shape (a number there is a float64,
 * as after encoding/json) or a Value when it holds anything else.
 *
 *   bool: boolean   ints, uints, float64: number   complex128: [re, im]   string: string
 *   interface: Value | null (nil)   slice: unknown[] | null   map: Record<string, unknown> | null
 *   struct: Record<string, unknown>   ptr: the pointee's data | null
 */
export class Value {
  constructor(
    readonly type: GoType,
    readonly v: unknown,
  ) {}
}

/** reflect.Value{}: no value at all (a missing map key, nil data); prints as "<no value>". */
export const INVALID = new Value(INVALID_TYPE, undefined);

export function isValid(value: Value): boolean {
  return value !== INVALID && value.type !== INVALID_TYPE;
}

/** The type of a datum held in an interface {} slot. */
export function dynamicOf(raw: unknown): Value | null {
  if (raw instanceof Value) return raw;
  if (raw === null || raw === undefined) return null;
  switch (typeof raw) {
    case 'string':
      return new Value(STRING, raw);
    case 'number':
      return new Value(FLOAT64, raw);
    case 'boolean':
      return new Value(BOOL, raw);
  }
  if (Array.isArray(raw)) return new Value(INTERFACE_SLICE, raw);
  return new Value(STRING_MAP, raw);
}

/** The value in a slot of type `type` holding `raw`. */
export function slotValue(type: GoType, raw: unknown): Value {
  return type.kind === 'interface' ? new Value(type, dynamicOf(raw)) : new Value(type, raw);
}

/** What to store in a slot of type `type` for `value` (the inverse of slotValue). */
export function slotData(type: GoType, value: Value): unknown {
  if (type.kind !== 'interface') return value.v;
  const dynamic = value.type.kind === 'interface' ? (value.v as Value | null) : value;
  if (dynamic === null || !isValid(dynamic)) return null;
  const t = dynamic.type;
  // JSON-shaped data stays plain; anything typed otherwise keeps its type.
  if (t === STRING || t === BOOL || t === FLOAT64 || t === INTERFACE_SLICE || t === STRING_MAP)
    return dynamic.v;
  return dynamic;
}

/** reflect's IsNil for the kinds that have nil. */
export function isNilValue(value: Value): boolean {
  switch (value.type.kind) {
    case 'interface':
    case 'slice':
    case 'map':
    case 'ptr':
      return value.v === null || value.v === undefined;
  }
  return false;
}

/** exec.go indirect: through pointers and interfaces to the value, stopping at a nil one. */
export function indirect(value: Value): [Value, boolean] {
  let v = value;
  for (;;) {
    if (v.type.kind === 'interface') {
      if (v.v === null) return [v, true];
      v = v.v as Value;
    } else if (v.type.kind === 'ptr') {
      if (v.v === null) return [v, true];
      v = new Value(v.type.elem as GoType, v.v);
    } else {
      return [v, false];
    }
  }
}

/** exec.go indirectInterface: the dynamic value of an interface; INVALID for a nil one. */
export function indirectInterface(value: Value): Value {
  if (value.type.kind !== 'interface') return value;
  return (value.v as Value | null) ?? INVALID;
}

/** reflect.Zero. */
export function zeroValue(type: GoType): Value {
  switch (type.kind) {
    case 'bool':
      return new Value(type, false);
    case 'string':
      return new Value(type, '');
    case 'float64':
      return new Value(type, 0);
    case 'complex128':
      return new Value(type, [0, 0]);
    case 'interface':
    case 'slice':
    case 'map':
    case 'ptr':
      return new Value(type, null);
    case 'struct': {
      const data: Record<string, unknown> = {};
      for (const f of type.fields ?? []) data[f.name] = zeroValue(f.type).v;
      return new Value(type, data);
    }
    case 'reflect':
      return new Value(type, INVALID);
    default:
      if (isIntKind(type.kind) || isUintKind(type.kind)) return new Value(type, 0);
      return INVALID;
  }
}

/** len() of a string (UTF-8 bytes), slice or map. */
export function lengthOf(value: Value): number {
  const v = value.v;
  switch (value.type.kind) {
    case 'string':
      return Buffer.byteLength(v as string, 'utf8');
    case 'slice':
      return v === null ? 0 : (v as unknown[]).length;
    case 'map':
      return v === null ? 0 : Object.keys(v as object).length;
  }
  throw new Error(`no length for ${value.type.name}`);
}

/** Element i of a slice. */
export function indexSlice(value: Value, i: number): Value {
  return slotValue(value.type.elem as GoType, (value.v as unknown[])[i]);
}

/** A map's entry, or undefined when the key is absent (only own properties count: no prototype). */
export function mapEntry(value: Value, key: string): Value | undefined {
  const data = value.v as Record<string, unknown> | null;
  if (data === null || !Object.hasOwn(data, key)) return undefined;
  return slotValue(value.type.elem as GoType, data[key]);
}

/** A map's keys in Go's sorted order (fmtsort: strings bytewise). */
export function sortedKeys(value: Value): string[] {
  const data = value.v as Record<string, unknown> | null;
  return data === null ? [] : sortGoStrings(Object.keys(data));
}

/** A struct's field by name. */
export function structField(value: Value, name: string): Value | undefined {
  const field = fieldOf(value.type, name);
  if (!field) return undefined;
  return slotValue(field.type, (value.v as Record<string, unknown>)[name]);
}

/** An interface {} value holding `value` (or nil). */
export function boxed(value: Value | null): Value {
  return new Value(EMPTY_INTERFACE, value !== null && isValid(value) ? value : null);
}
