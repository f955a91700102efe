import { compareGoStrings } from './go-strings.js';
import { isGoStruct } from './go-struct.js';

/**
 * How Go's fmt prints values (%v), for printf and for helper results written into the output. JavaScript
 * has one number type: integral numbers print as Go ints, others as Go float64 (%g, shortest).
 */
export function formatValue(value: unknown, plus = false): string {
  if (value === undefined || value === null) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v, plus)).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (isGoStruct(value)) {
      return `{${entries.map(([k, v]) => (plus ? `${k}:` : '') + formatValue(v, plus)).join(' ')}}`;
    }
    entries.sort(([a], [b]) => compareGoStrings(a, b));
    return `map[${entries.map(([k, v]) => `${k}:${formatValue(v, plus)}`).join(' ')}]`;
  }
  if (typeof value === 'bigint' || typeof value === 'symbol') return value.toString();
  return '<func>';
}

export function formatNumber(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : formatFloatG(n);
}

/** strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent form below 1e-4 and from 1e6 up. */
export function formatFloatG(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, exponent] = n.toExponential().split('e') as [string, string];
  const exp = Number(exponent);
  if (exp < -4 || exp >= 6) return `${mantissa}e${goExponent(exp)}`;
  return String(n);
}

/** %e with `precision` digits after the point: Go writes at least two exponent digits ("1.5e+06"). */
export function formatFloatE(n: number, precision: number): string {
  if (!Number.isFinite(n)) return formatFloatG(n);
  const [mantissa, exponent] = n.toExponential(precision).split('e') as [string, string];
  return `${mantissa}e${goExponent(Number(exponent))}`;
}

function goExponent(exp: number): string {
  return (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
}

/** The Go type a value would have in confd, for error messages and printf's %!verb(type=value). */
export function goTypeName(value: unknown): string {
  if (value === undefined || value === null) return '<nil>';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'int' : 'float64';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return value.every((v) => typeof v === 'string') ? '[]string' : '[]interface {}';
  if (typeof value === 'object') {
    if (isGoStruct(value)) return 'Key' in value ? 'memkv.KVPair' : 'net.SRV';
    return 'map[string]interface {}';
  }
  return typeof value;
}

/** strconv.Quote / QuoteRune: Go escapes, printable Unicode kept as is. */
export function goQuote(s: string, quote: '"' | "'" = '"'): string {
  let out = quote;
  for (const rune of s) {
    const code = rune.codePointAt(0) as number;
    if (rune === quote || rune === '\\') out += `\\${rune}`;
    else if (rune in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[rune];
    else if (rune === ' ' || !/[\p{C}\p{Z}]/u.test(rune)) out += rune;
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else if (code < 0x10000) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return out + quote;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}
