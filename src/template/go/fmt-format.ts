import type { FloatFormat } from './ftoa.js';
import { formatFloat } from './ftoa.js';
import { canBackquote, quote, quoteToASCII, isPrint } from './strconv.js';

/**
 * The formatting half of Go's fmt (format.go): flags, width and precision, padding, and the digits of
 * integers, floats, strings and quoted strings. The printer (fmt.ts) decides which of these a verb and
 * a value call for.
 */
export const LDIGITS = '0123456789abcdefx';
export const UDIGITS = '0123456789ABCDEFX';
export const MAX_WIDTH = 1e6;

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

export class Format {
  buf = '';
  // fmt.fmtFlags
  protected widPresent = false;
  protected precPresent = false;
  protected minus = false;
  protected plus = false;
  protected sharp = false;
  protected space = false;
  protected zero = false;
  protected plusV = false;
  protected sharpV = false;
  protected wid = 0;
  protected prec = 0;

  protected clearflags(): void {
    this.widPresent = this.precPresent = this.minus = this.plus = this.sharp = false;
    this.space = this.zero = this.plusV = this.sharpV = false;
    this.wid = this.prec = 0;
  }

  // ---------------------------------------------------------------- padding (format.go)

  protected writePadding(n: number): void {
    if (n > 0) this.buf += (this.zero ? '0' : ' ').repeat(n);
  }

  protected pad(s: string): void {
    if (!this.widPresent || this.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.wid - runeCount(s);
    if (!this.minus) {
      this.writePadding(width);
      this.buf += s;
    } else {
      this.buf += s;
      this.writePadding(width);
    }
  }

  protected truncate(s: string): string {
    if (!this.precPresent) return s;
    let n = this.prec;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xdc00 && c <= 0xdfff) continue;
      if (--n < 0) return s.slice(0, i);
    }
    return s;
  }

  protected fmtS(s: string): void {
    this.pad(this.truncate(s));
  }

  protected fmtQ(s0: string): void {
    const s = this.truncate(s0);
    if (this.sharp && canBackquote(s)) this.pad(`\`${s}\``);
    else this.pad(this.plus ? quoteToASCII(s) : quote(s));
  }

  protected fmtSx(s: string, digits: string): void {
    let bytes = Buffer.from(s, 'utf8');
    if (this.precPresent && this.prec < bytes.length) bytes = bytes.subarray(0, this.prec);
    const length = bytes.length;
    let width = 2 * length;
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2;
        width += length - 1;
      } else if (this.sharp) {
        width += 2;
      }
    } else {
      if (this.widPresent) this.writePadding(this.wid);
      return;
    }
    if (this.widPresent && this.wid > width && !this.minus) this.writePadding(this.wid - width);
    let out = this.sharp ? `0${digits[16]}` : '';
    bytes.forEach((c, i) => {
      if (this.space && i > 0) out += this.sharp ? ` 0${digits[16]}` : ' ';
      out += (digits[c >> 4] as string) + (digits[c & 0xf] as string);
    });
    this.buf += out;
    if (this.widPresent && this.wid > width && this.minus) this.writePadding(this.wid - width);
  }

  protected fmtInteger(
    n: number | bigint,
    base: number,
    isSigned: boolean,
    verb: string,
    digits: string,
  ): void {
    let u = BigInt(n);
    const negative = isSigned && u < 0n;
    if (u < 0n) u = isSigned ? -u : u + (1n << 64n);
    let prec = 0;
    if (this.precPresent) {
      prec = this.prec;
      if (prec === 0 && u === 0n) {
        const oldZero = this.zero;
        this.zero = false;
        this.writePadding(this.wid);
        this.zero = oldZero;
        return;
      }
    } else if (this.zero && this.widPresent) {
      prec = this.wid;
      if (negative || this.plus || this.space) prec--; // leave room for sign
    }
    let body = u.toString(base);
    if (digits === UDIGITS) body = body.toUpperCase();
    if (body.length < prec) body = '0'.repeat(prec - body.length) + body;
    if (this.sharp) {
      if (base === 2) body = `0b${body}`;
      else if (base === 8 && !body.startsWith('0')) body = `0${body}`;
      else if (base === 16) body = `0${digits[16]}${body}`;
    }
    if (verb === 'O') body = `0o${body}`;
    if (negative) body = `-${body}`;
    else if (this.plus) body = `+${body}`;
    else if (this.space) body = ` ${body}`;
    const oldZero = this.zero;
    this.zero = false;
    this.pad(body);
    this.zero = oldZero;
  }

  protected fmtUnicode(n: number | bigint): void {
    let u = BigInt(n);
    if (u < 0n) u += 1n << 64n;
    const prec = this.precPresent && this.prec > 4 ? this.prec : 4;
    let out = `U+${u.toString(16).toUpperCase().padStart(prec, '0')}`;
    if (this.sharp && u <= 0x10ffffn && isPrint(Number(u))) out += ` '${String.fromCodePoint(Number(u))}'`;
    const oldZero = this.zero;
    this.zero = false;
    this.pad(out);
    this.zero = oldZero;
  }

  protected runeOf(n: number | bigint): number {
    const c = BigInt(n);
    if (c < 0n || c > 0x10ffffn) return 0xfffd;
    const r = Number(c);
    return r >= 0xd800 && r <= 0xdfff ? 0xfffd : r;
  }

  protected fmtFloatBits(v: number, verb: FloatFormat, defaultPrec: number): void {
    const prec = this.precPresent ? this.prec : defaultPrec;
    let num = formatFloat(v, verb, prec);
    num = num.startsWith('-') || num.startsWith('+') ? num : `+${num}`;
    if (this.space && num[0] === '+' && !this.plus) num = ` ${num.slice(1)}`;
    if (num[1] === 'I' || num[1] === 'N') {
      const oldZero = this.zero;
      this.zero = false;
      if (num[1] === 'N' && !this.space && !this.plus) num = num.slice(1);
      this.pad(num);
      this.zero = oldZero;
      return;
    }
    if (this.sharp && verb !== 'b') num = this.sharpFloat(num, verb, prec);
    if (this.plus || num[0] !== '+') {
      if (this.zero && this.widPresent && this.wid > num.length) {
        this.buf += num[0];
        this.writePadding(this.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  /** The # flag: always a decimal point; %g/%v keep their trailing zeros. */
  protected sharpFloat(num0: string, verb: string, prec: number): string {
    let num = num0;
    let digits = 0;
    if (verb === 'v' || verb === 'g' || verb === 'G' || verb === 'x') digits = prec === -1 ? 6 : prec;
    let tail = '';
    let hasDecimalPoint = false;
    let sawNonzeroDigit = false;
    for (let i = 1; i < num.length; i++) {
      const c = num[i] as string;
      if (c === '.') {
        hasDecimalPoint = true;
        continue;
      }
      if (c === 'p' || c === 'P' || ((c === 'e' || c === 'E') && verb !== 'x' && verb !== 'X')) {
        tail = num.slice(i);
        num = num.slice(0, i);
        break;
      }
      if (c !== '0') sawNonzeroDigit = true;
      if (sawNonzeroDigit) digits--;
    }
    if (!hasDecimalPoint) {
      if (num.length === 2 && num[1] === '0') digits--;
      num += '.';
    }
    if (digits > 0) num += '0'.repeat(digits);
    return num + tail;
  }
}
