/**
 * The parts of Go's strconv (and fmt's %U) that templates reach: quoting as strconv.Quote and friends,
 * unquoting string and character literals as strconv.Unquote / UnquoteChar. Go strings are bytes, these
 * are JavaScript strings: a `\x` escape above 0x7f, which makes a non-UTF-8 Go string, decodes to U+FFFD.
 */

export class SyntaxError extends Error {
  constructor() {
    super('invalid syntax');
  }
}

/**
 * Made at first use: V8 builds the Unicode sets of a `\p{...}` class when the literal is evaluated (~0.5 ms),
 * and most runs never quote a character beyond ASCII.
 */
let printable: RegExp | undefined;

/** strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  printable ??= /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
  return printable.test(String.fromCodePoint(r));
}

const SIMPLE_ESCAPES: Readonly<Record<number, string>> = {
  0x07: '\\a',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x0b: '\\v',
};

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function appendEscapedRune(r: number, quote: number, asciiOnly: boolean): string {
  if (r === quote || r === 0x5c) return `\\${String.fromCodePoint(r)}`;
  if (asciiOnly ? r < 0x80 && isPrint(r) : isPrint(r)) return String.fromCodePoint(r);
  const simple = SIMPLE_ESCAPES[r];
  if (simple) return simple;
  if (r < 0x20 || r === 0x7f) return `\\x${hex(r, 2)}`;
  if (r < 0x10000) return `\\u${hex(r, 4)}`;
  return `\\U${hex(r, 8)}`;
}

function quoteWith(s: string, quote: number, asciiOnly: boolean): string {
  const q = String.fromCodePoint(quote);
  let out = q;
  for (const ch of s) {
    const r = ch.codePointAt(0) as number;
    // Fast path for the common case.
    if (r < 0x80 && r >= 0x20 && r !== 0x7f && r !== quote && r !== 0x5c) out += ch;
    else out += appendEscapedRune(r >= 0xd800 && r <= 0xdfff ? 0xfffd : r, quote, asciiOnly);
  }
  return out + q;
}

/** strconv.Quote. */
export function quote(s: string): string {
  return quoteWith(s, 0x22, false);
}

/** strconv.QuoteToASCII (`%+q`). */
export function quoteToASCII(s: string): string {
  return quoteWith(s, 0x22, true);
}

/** strconv.QuoteRune, with Go's replacement of invalid runes by U+FFFD. */
export function quoteRune(r: number, asciiOnly = false): string {
  const valid = r >= 0 && r <= 0x10ffff && !(r >= 0xd800 && r <= 0xdfff);
  return `'${appendEscapedRune(valid ? r : 0xfffd, 0x27, asciiOnly)}'`;
}

/** strconv.CanBackquote: `%#q` prints `raw` when the string needs no escapes in backquotes. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const r = ch.codePointAt(0) as number;
    if (r === 0xfeff || r === 0x60) return false;
    if (r < 0x20 && r !== 0x09) return false;
    if (r === 0x7f) return false;
  }
  return true;
}

/** fmt's `%#U`: "U+0041 'A'", the character only when printable. */
export function formatRuneU(r: number): string {
  const code = `U+${r.toString(16).toUpperCase().padStart(4, '0')}`;
  return isPrint(r) ? `${code} '${String.fromCodePoint(r)}'` : code;
}

function unhex(c: string): number {
  const v = parseInt(c, 16);
  return /^[0-9a-fA-F]$/.test(c) ? v : -1;
}

export interface UnquotedChar {
  value: number;
  /** The value came from a literal multi-byte character or \u/\U: encode it as UTF-8, not as a byte. */
  multibyte: boolean;
  tail: string;
}

/** strconv.UnquoteChar: decodes the first character or escape of `s`, a literal quoted by `q`. */
export function unquoteChar(s: string, q: string): UnquotedChar {
  if (s.length === 0) throw new SyntaxError();
  const c = s[0] as string;
  if (c === q && (q === "'" || q === '"')) throw new SyntaxError();
  const code = s.codePointAt(0) as number;
  if (code >= 0x80) {
    const width = code > 0xffff ? 2 : 1;
    return { value: code, multibyte: true, tail: s.slice(width) };
  }
  if (c !== '\\') return { value: code, multibyte: false, tail: s.slice(1) };
  if (s.length <= 1) throw new SyntaxError();
  const e = s[1] as string;
  let rest = s.slice(2);
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c };
  if (e in simple) return { value: simple[e] as number, multibyte: false, tail: rest };
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    if (rest.length < n) throw new SyntaxError();
    let v = 0;
    for (let j = 0; j < n; j++) {
      const x = unhex(rest[j] as string);
      if (x < 0) throw new SyntaxError();
      v = v * 16 + x;
    }
    rest = rest.slice(n);
    if (e === 'x') return { value: v, multibyte: false, tail: rest };
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new SyntaxError();
    return { value: v, multibyte: true, tail: rest };
  }
  if (e >= '0' && e <= '7') {
    let v = e.charCodeAt(0) - 0x30;
    if (rest.length < 2) throw new SyntaxError();
    for (let j = 0; j < 2; j++) {
      const x = rest.charCodeAt(j) - 0x30;
      if (x < 0 || x > 7) throw new SyntaxError();
      v = v * 8 + x;
    }
    rest = rest.slice(2);
    if (v > 255) throw new SyntaxError();
    return { value: v, multibyte: false, tail: rest };
  }
  if (e === "'" || e === '"') {
    if (e !== q) throw new SyntaxError();
    return { value: e.charCodeAt(0), multibyte: false, tail: rest };
  }
  throw new SyntaxError();
}

/** strconv.Unquote for the literals the lexer produces: "...", `...` and '...'. */
export function unquote(s: string): string {
  if (s.length < 2) throw new SyntaxError();
  const q = s[0] as string;
  if (q === '`') {
    const end = s.indexOf('`', 1);
    if (end !== s.length - 1) throw new SyntaxError();
    return s.slice(1, end).replaceAll('\r', '');
  }
  if (q !== '"' && q !== "'") throw new SyntaxError();
  const bytes: number[] = [];
  let rest = s.slice(1);
  while (rest.length > 0 && rest[0] !== q) {
    if (rest[0] === '\n') throw new SyntaxError();
    const { value, multibyte, tail } = unquoteChar(rest, q);
    rest = tail;
    if (value < 0x80 || !multibyte) bytes.push(value);
    else bytes.push(...Buffer.from(String.fromCodePoint(value), 'utf8'));
    if (q === "'") break;
  }
  if (rest !== q) throw new SyntaxError();
  return Buffer.from(bytes).toString('utf8');
}
