import type { KVPairs } from './store-client.js';

/**
 * Flattens a parsed YAML/JSON tree into confd's key/value pairs, as confd's file backend does: map entries
 * become path segments, list items their index (`/list/0`), scalars their text. Nulls yield no key at all
 * (confd skips them), so `getv` on such a key fails like on any missing key. Later writes win, which is how
 * several files override each other.
 */
export function flattenTree(node: unknown, out: KVPairs, key = ''): void {
  if (node instanceof Map) {
    for (const [k, v] of node) flattenTree(v, out, `${key}/${String(k)}`);
  } else if (Array.isArray(node)) {
    node.forEach((item, i) => flattenTree(item, out, `${key}/${i}`));
  } else if (
    node !== null &&
    typeof node === 'object' &&
    !(node instanceof Uint8Array) &&
    !(node instanceof Set)
  ) {
    for (const [k, v] of Object.entries(node)) flattenTree(v, out, `${key}/${k}`);
  } else {
    const text = scalarText(node);
    if (text !== undefined) out.set(key || '/', text);
  }
}

/** A scalar as confd (Go's strconv) prints it; undefined for values confd drops (null, sets). */
export function scalarText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'number':
      return goFloatText(value);
    default:
      // !!binary: Go decodes it into a string of the raw bytes.
      if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
      return undefined;
  }
}

/** strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent, Go's names for infinities. */
export function goFloatText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  // String(-0) is "0"; Go keeps the sign (yaml.v2 reads `-0.0` as negative zero, and confd prints "-0").
  if (Object.is(value, -0)) return '-0';
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign = '', intPart = '', fracPart = '', expText = '0'] = match;
  const digits = intPart + fracPart;
  const point = intPart.length + Number(expText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
