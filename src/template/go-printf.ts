import { formatFloatE, formatFloatG, formatValue, goQuote, goTypeName } from './go-format.js';
import { isGoStruct } from './go-struct.js';
import { compareGoStrings } from './go-strings.js';

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  precision?: number;
}

/**
 * Go's fmt.Sprintf for the verbs confd templates use: %v %+v %s %q %d %t %b %o %x %X %c %U %e %E %f %F
 * %g and %%, with the flags - + # 0 space, width and precision. Mistakes print the way Go prints them
 * (%!d(string=x), %!s(MISSING), %!(EXTRA ...)) instead of failing the render.
 */
export function goSprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let next = 0;
  let i = 0;
  while (i < format.length) {
    const ch = format[i] as string;
    if (ch !== '%') {
      out += ch;
      i++;
      continue;
    }
    i++;
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (; i < format.length && FLAGS.has(format[i] as string); i++) setFlag(spec, format[i] as string);
    const width = readNumber(format, i);
    if (width) [spec.width, i] = width;
    if (format[i] === '.') {
      const precision = readNumber(format, i + 1);
      [spec.precision, i] = precision ?? [0, i + 1];
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) as number);
    i += verb.length;
    if (verb === '%') out += '%';
    else if (next >= args.length) out += `%!${verb}(MISSING)`;
    else out += formatArg(args[next++], verb, spec);
  }
  if (next < args.length) {
    const extra = args.slice(next).map((a) => (a == null ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}

const FLAGS = new Set(['-', '+', '#', ' ', '0']);

function setFlag(spec: Spec, flag: string): void {
  if (flag === '-') spec.minus = true;
  else if (flag === '+') spec.plus = true;
  else if (flag === '#') spec.sharp = true;
  else if (flag === ' ') spec.space = true;
  else spec.zero = true;
}

function readNumber(s: string, from: number): [number, number] | undefined {
  let i = from;
  while (i < s.length && (s[i] as string) >= '0' && (s[i] as string) <= '9') i++;
  return i > from ? [Number(s.slice(from, i)), i] : undefined;
}

function formatArg(arg: unknown, verb: string, spec: Spec): string {
  if (arg === undefined || arg === null) return verb === 'v' ? pad('<nil>', spec) : `%!${verb}(<nil>)`;
  // Go applies the verb to every element of a slice and every field of a struct or map.
  if (Array.isArray(arg)) return `[${arg.map((v) => formatArg(v, verb, spec)).join(' ')}]`;
  if (typeof arg === 'object') {
    const entries = Object.entries(arg);
    if (isGoStruct(arg)) {
      const label = verb === 'v' && spec.plus;
      return `{${entries.map(([k, v]) => (label ? `${k}:` : '') + formatArg(v, verb, spec)).join(' ')}}`;
    }
    entries.sort(([a], [b]) => compareGoStrings(a, b));
    return `map[${entries.map(([k, v]) => `${formatArg(k, verb, spec)}:${formatArg(v, verb, spec)}`).join(' ')}]`;
  }
  if (typeof arg === 'string') return formatString(arg, verb, spec);
  if (typeof arg === 'number') return formatNumberArg(arg, verb, spec);
  if (typeof arg === 'boolean' && (verb === 'v' || verb === 't')) return pad(String(arg), spec);
  return badVerb(verb, arg);
}

function badVerb(verb: string, arg: unknown): string {
  return `%!${verb}(${goTypeName(arg)}=${formatValue(arg)})`;
}

function formatString(s: string, verb: string, spec: Spec): string {
  const text = spec.precision === undefined ? s : [...s].slice(0, spec.precision).join('');
  switch (verb) {
    case 'v':
    case 's':
      return pad(text, spec);
    case 'q':
      return pad(goQuote(text), spec);
    case 'x':
    case 'X': {
      const hex = Buffer.from(text, 'utf8').toString('hex');
      return pad(verb === 'X' ? hex.toUpperCase() : hex, spec);
    }
    default:
      return badVerb(verb, s);
  }
}

const INT_BASES: Record<string, { radix: number; prefix: string }> = {
  d: { radix: 10, prefix: '' },
  v: { radix: 10, prefix: '' },
  b: { radix: 2, prefix: '0b' },
  o: { radix: 8, prefix: '0' },
  x: { radix: 16, prefix: '0x' },
  X: { radix: 16, prefix: '0X' },
};

function formatNumberArg(n: number, verb: string, spec: Spec): string {
  const base = INT_BASES[verb];
  if (Number.isSafeInteger(n) && base) {
    let digits = Math.abs(n).toString(base.radix);
    if (verb === 'X') digits = digits.toUpperCase();
    if (spec.precision !== undefined) digits = digits.padStart(spec.precision, '0');
    const prefix = spec.sharp ? base.prefix : '';
    // Go ignores the 0 flag for integers once a precision is given.
    return padNumber(sign(n, spec) + prefix, digits, {
      ...spec,
      zero: spec.zero && spec.precision === undefined,
    });
  }
  const floatVerb = 'vgGeEfF'.includes(verb);
  if (floatVerb && !Number.isFinite(n)) return pad(formatFloatG(n), { ...spec, zero: false });
  switch (verb) {
    case 'v':
    case 'g':
    case 'G':
      return padNumber(sign(n, spec), formatFloatG(Math.abs(n)), spec);
    case 'e':
    case 'E': {
      const text = formatFloatE(Math.abs(n), spec.precision ?? 6);
      return padNumber(sign(n, spec), verb === 'E' ? text.toUpperCase() : text, spec);
    }
    case 'f':
    case 'F':
      return padNumber(sign(n, spec), Math.abs(n).toFixed(spec.precision ?? 6), spec);
  }
  if (Number.isSafeInteger(n) && n >= 0 && n <= 0x10ffff) {
    const rune = String.fromCodePoint(n);
    if (verb === 'c') return pad(rune, spec);
    if (verb === 'q') return pad(goQuote(rune, "'"), spec);
    if (verb === 'U') return pad(`U+${n.toString(16).toUpperCase().padStart(4, '0')}`, spec);
  }
  return badVerb(verb, n);
}

function sign(n: number, spec: Spec): string {
  if (n < 0 || Object.is(n, -0)) return '-';
  if (spec.plus) return '+';
  return spec.space ? ' ' : '';
}

/** Zero padding goes between the sign (and base prefix) and the digits; space padding outside both. */
function padNumber(signText: string, body: string, spec: Spec): string {
  const width = spec.width ?? 0;
  if (spec.zero && !spec.minus) {
    return signText + body.padStart(width - signText.length, '0');
  }
  return pad(signText + body, spec);
}

function pad(text: string, spec: Spec): string {
  const missing = (spec.width ?? 0) - [...text].length;
  if (missing <= 0) return text;
  if (spec.minus) return text + ' '.repeat(missing);
  return (spec.zero ? '0' : ' ').repeat(missing) + text;
}
