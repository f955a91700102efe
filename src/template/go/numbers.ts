import { SyntaxError as QuoteSyntaxError, quote, unquoteChar } from './strconv.js';

/**
 * Number literals as text/template's NumberNode reads them (parse/node.go newNumber): one literal can be
 * an int, a uint, a float and a complex at once, and execution picks the type. Integers are parsed exactly
 * (bigint) so that range errors are Go's; Go's strconv rules for prefixes and `_` separators apply.
 */
export interface NumberValue {
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  isComplex: boolean;
  int: bigint;
  uint: bigint;
  float: number;
  complex: [number, number];
}

const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);
const MAX_UINT64 = (1n << 64n) - 1n;

/** Throws an Error whose message is the one Go's parser reports after "template: NAME:LINE: ". */
export function parseNumber(text: string, kind: 'char' | 'complex' | 'number'): NumberValue {
  const n: NumberValue = {
    isInt: false,
    isUint: false,
    isFloat: false,
    isComplex: false,
    int: 0n,
    uint: 0n,
    float: 0,
    complex: [0, 0],
  };
  if (kind === 'char') {
    let decoded;
    try {
      decoded = unquoteChar(text.slice(1), text[0] as string);
    } catch (err) {
      if (err instanceof QuoteSyntaxError) throw new Error('invalid syntax', { cause: err });
      throw err;
    }
    if (decoded.tail !== "'") throw new Error(`malformed character constant: ${text}`);
    const r = BigInt(decoded.value);
    Object.assign(n, { isInt: true, int: r, isUint: true, uint: r, isFloat: true, float: decoded.value });
    return n;
  }
  if (kind === 'complex') {
    const m = /^([+-]?[^+-]+(?:[eEpP][+-][^+-]*)?)([+-][^+-]+(?:[eEpP][+-][^+-]*)?)i$/.exec(text);
    const re = m ? parseFloatLiteral(m[1] as string) : undefined;
    const im = m ? parseFloatLiteral(m[2] as string) : undefined;
    if (re === undefined || im === undefined) throw new Error(`expected complex; found ${text}`);
    n.isComplex = true;
    n.complex = [re, im];
    simplifyComplex(n);
    return n;
  }
  if (text.endsWith('i')) {
    const f = parseFloatLiteral(text.slice(0, -1));
    if (f !== undefined) {
      n.isComplex = true;
      n.complex = [0, f];
      simplifyComplex(n);
      return n;
    }
  }
  const u = parseUint(text);
  if (u !== undefined) {
    n.isUint = true;
    n.uint = u;
  }
  const i = parseInt64(text);
  if (i !== undefined) {
    n.isInt = true;
    n.int = i;
    if (i === 0n) {
      n.isUint = true; // in case of -0.
      n.uint = u ?? 0n;
    }
  }
  if (n.isInt) {
    n.isFloat = true;
    n.float = Number(n.int);
  } else if (n.isUint) {
    n.isFloat = true;
    n.float = Number(n.uint);
  } else {
    const f = parseFloatLiteral(text);
    if (f !== undefined) {
      if (!/[.eEpP]/.test(text)) throw new Error(`integer overflow: ${quote(text)}`);
      n.isFloat = true;
      n.float = f;
      if (Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63) {
        n.isInt = true;
        n.int = BigInt(f);
      }
      if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) {
        n.isUint = true;
        n.uint = BigInt(f);
      }
    }
  }
  if (!n.isInt && !n.isUint && !n.isFloat) throw new Error(`illegal number syntax: ${quote(text)}`);
  return n;
}

function simplifyComplex(n: NumberValue): void {
  const [re, im] = n.complex;
  n.isFloat = im === 0;
  if (!n.isFloat) return;
  n.float = re;
  if (Number.isInteger(re) && re >= -(2 ** 63) && re < 2 ** 63) {
    n.isInt = true;
    n.int = BigInt(re);
  }
  if (Number.isInteger(re) && re >= 0 && re < 2 ** 64) {
    n.isUint = true;
    n.uint = BigInt(re);
  }
}

/** strconv's underscoreOK: `_` only between digits (or after a base prefix). */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.startsWith('-') || s.startsWith('+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && /[box]/i.test(s[1] as string)) {
    i = 2;
    saw = '0';
    hex = /x/i.test(s[1] as string);
  }
  for (; i < s.length; i++) {
    const c = s[i] as string;
    if ((c >= '0' && c <= '9') || (hex && /[a-f]/i.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseUint(s, 0, 64); undefined on any error. */
export function parseUint(s0: string): bigint | undefined {
  if (s0 === '') return undefined;
  let s = s0;
  let base = 10;
  if (s[0] === '0') {
    const p = (s[1] ?? '').toLowerCase();
    if (s.length >= 3 && p === 'b') [base, s] = [2, s.slice(2)];
    else if (s.length >= 3 && p === 'o') [base, s] = [8, s.slice(2)];
    else if (s.length >= 3 && p === 'x') [base, s] = [16, s.slice(2)];
    else [base, s] = [8, s.slice(1)];
  }
  let n = 0n;
  let underscores = false;
  const b = BigInt(base);
  for (const c of s) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const d = digitValue(c);
    if (d < 0 || d >= base) return undefined;
    n = n * b + BigInt(d);
    if (n > MAX_UINT64) return undefined;
  }
  if (underscores && !underscoreOK(s0)) return undefined;
  return n;
}

/** strconv.ParseInt(s, 0, 64); undefined on any error. */
export function parseInt64(s: string): bigint | undefined {
  if (s === '') return undefined;
  const neg = s[0] === '-';
  const body = s[0] === '+' || s[0] === '-' ? s.slice(1) : s;
  const u = parseUint(body);
  if (u === undefined) return undefined;
  const v = neg ? -u : u;
  return v < MIN_INT64 || v > MAX_INT64 ? undefined : v;
}

function digitValue(c: string): number {
  const code = c.toLowerCase().charCodeAt(0);
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 10;
  return -1;
}

const DECIMAL_FLOAT = /^[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9][0-9_]*)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9][0-9_]*)$/;

/** strconv.ParseFloat(s, 64) for Go literal syntax; undefined on syntax or range errors. */
export function parseFloatLiteral(s: string): number | undefined {
  if (DECIMAL_FLOAT.test(s)) {
    if (!/[0-9]/.test(s.replace(/[eE].*$/, ''))) return undefined;
    if (s.includes('_') && !underscoreOK(s)) return undefined;
    const f = Number(s.replaceAll('_', ''));
    return Number.isFinite(f) ? f : undefined;
  }
  const m = HEX_FLOAT.exec(s);
  if (!m) return undefined;
  if (s.includes('_') && !underscoreOK(s)) return undefined;
  const [, sign, intDigits = '', fracDigits = '', exponent = '0'] = m;
  const digits = (intDigits + fracDigits).replaceAll('_', '');
  if (digits === '') return undefined;
  const mantissa = BigInt(`0x${digits}`);
  const exp = Number(exponent.replaceAll('_', '')) - 4 * fracDigits.replaceAll('_', '').length;
  const f = scaleBinary(mantissa, exp);
  if (!Number.isFinite(f)) return undefined;
  return sign === '-' ? -f : f;
}

/** mantissa * 2^exp rounded to the nearest double, ties to even. */
function scaleBinary(mantissa: bigint, exp: number): number {
  if (mantissa === 0n) return 0;
  let m = mantissa;
  let e = exp;
  const bits = m.toString(2).length;
  // Keep 54 bits (53 + a rounding bit) plus a sticky bit, then round half to even.
  if (bits > 55) {
    const drop = BigInt(bits - 55);
    const sticky = (m & ((1n << drop) - 1n)) !== 0n ? 1n : 0n;
    m = (m >> drop) | sticky;
    e += Number(drop);
  }
  // Number(m) is exact (m < 2^55 fits after rounding below); scale with exact powers of two.
  const rounded = roundToDouble(m);
  return ldexp(rounded, e);
}

function roundToDouble(m: bigint): number {
  const bits = m.toString(2).length;
  if (bits <= 53) return Number(m);
  const drop = BigInt(bits - 53);
  const half = 1n << (drop - 1n);
  const rest = m & ((1n << drop) - 1n);
  let top = m >> drop;
  if (rest > half || (rest === half && (top & 1n) === 1n)) top += 1n;
  return Number(top) * 2 ** Number(drop);
}

function ldexp(x: number, e: number): number {
  let v = x;
  let k = e;
  while (k > 1000) {
    v *= 2 ** 1000;
    k -= 1000;
  }
  while (k < -1000) {
    v *= 2 ** -1000;
    k += 1000;
  }
  return v * 2 ** k;
}
