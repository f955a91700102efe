import type { Arg } from './go/fmt.js';
import { sprint } from './go/fmt.js';
import { isGoStruct } from './go-struct.js';
import {
  BOOL,
  FLOAT64,
  INT,
  INTERFACE_SLICE,
  KV_PAIR,
  KV_PAIRS,
  SRV,
  STRING,
  STRING_MAP,
  STRING_SLICE,
} from './go/types.js';
import { Value } from './go/values.js';

/**
 * Plain JavaScript values (what Handlebars helpers pass around) as the Go values confd would hold, so
 * the Handlebars engine prints and types them with the Go engine's own fmt. JavaScript has one number
 * type: integral numbers count as Go ints, others as float64.
 */
export function fromJs(value: unknown): Arg {
  if (value instanceof Value) return value;
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'string':
      return new Value(STRING, value);
    case 'boolean':
      return new Value(BOOL, value);
    case 'number':
      return new Value(Number.isSafeInteger(value) ? INT : FLOAT64, value);
    case 'bigint':
      return new Value(INT, value);
  }
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return new Value(STRING_SLICE, value);
    if (value.length > 0 && value.every((v) => isGoStruct(v) && 'Key' in (v as object))) {
      return new Value(KV_PAIRS, value);
    }
    return new Value(INTERFACE_SLICE, value.map(fromJs));
  }
  if (typeof value === 'object') {
    if (isGoStruct(value)) return new Value('Key' in value ? KV_PAIR : SRV, value);
    const entries = Object.entries(value).map(([k, v]) => [k, fromJs(v)]);
    return new Value(STRING_MAP, Object.fromEntries(entries));
  }
  return new Value(STRING, typeof value === 'symbol' ? value.toString() : '<func>');
}

/** How Go's fmt prints a value (%v), for helper results written into the output. */
export function formatValue(value: unknown): string {
  return sprint([fromJs(value)]);
}

/** The Go type a value would have in confd, for error messages. */
export function goTypeName(value: unknown): string {
  return fromJs(value)?.type.name ?? '<nil>';
}
