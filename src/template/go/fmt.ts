import type { FloatFormat } from './ftoa.js';
import { formatFloat } from './ftoa.js';
import { stringerOf } from './methods.js';
import { canBackquote, isPrint, quote, quoteRune, quoteToASCII } from './strconv.js';
import type { GoType } from './types.js';
import { isIntKind, isUintKind } from './types.js';
import { isValid, slotValue, sortedKeys, Value, zeroValue } from './values.js';

/**
 * Go's fmt (print.go, format.go) over template values: Sprint, Sprintln and Sprintf with every verb,
 * flag, width, precision and argument index, %v of slices, maps and structs, and the %!verb(type=value)
 * forms for mistakes. Arguments are what a Go function taking ...interface{} receives: a value, or null
 * for a nil interface.
 */
export type Arg = Value | null;

export function sprint(args: readonly Arg[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = arg !== null && arg.type.kind === 'string';
    // Go adds spaces between operands when neither side is a string.
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.printArg(arg, 'v');
    prevString = isString;
  });
  return p.buf;
}

export function sprintln(args: readonly Arg[]): string {
  const p = new Printer();
  args.forEach((arg, i) => {
    if (i > 0) p.buf += ' ';
    p.printArg(arg, 'v');
  });
  return `${p.buf}\n`;
}

export function sprintf(format: string, args: readonly Arg[]): string {
  const p = new Printer();
  p.doPrintf(format, args);
  return p.buf;
}

const LDIGITS = '0123456789abcdefx';
const UDIGITS = '0123456789ABCDEFX';
const MAX_WIDTH = 1e6;

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/** A fake but stable address for the pointers Go would print: Go's own are different on every run. */
const FAKE_POINTER = 'c000010000';

class Printer {
  buf = '';
  private arg: Arg = null;
  private value: Value | undefined;
  private erroring = false;
  private reordered = false;
  private goodArgNum = true;
  // fmt.fmtFlags
  private widPresent = false;
  private precPresent = false;
  private minus = false;
  private plus = false;
  private sharp = false;
  private space = false;
  private zero = false;
  private plusV = false;
  private sharpV = false;
  private wid = 0;
  private prec = 0;

  private clearflags(): void {
    this.widPresent = this.precPresent = this.minus = this.plus = this.sharp = false;
    this.space = this.zero = this.plusV = this.sharpV = false;
    this.wid = this.prec = 0;
  }

  // ---------------------------------------------------------------- padding (format.go)

  private writePadding(n: number): void {
    if (n > 0) this.buf += (this.zero ? '0' : ' ').repeat(n);
  }

  private pad(s: string): void {
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

  private truncate(s: string): string {
    if (!this.precPresent) return s;
    let n = this.prec;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xdc00 && c <= 0xdfff) continue;
      if (--n < 0) return s.slice(0, i);
    }
    return s;
  }

  private fmtS(s: string): void {
    this.pad(this.truncate(s));
  }

  private fmtQ(s0: string): void {
    const s = this.truncate(s0);
    if (this.sharp && canBackquote(s)) this.pad(`\`${s}\``);
    else this.pad(this.plus ? quoteToASCII(s) : quote(s));
  }

  private fmtSx(s: string, digits: string): void {
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

  private fmtInteger(
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

  private fmtUnicode(n: number | bigint): void {
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

  private runeOf(n: number | bigint): number {
    const c = BigInt(n);
    if (c < 0n || c > 0x10ffffn) return 0xfffd;
    const r = Number(c);
    return r >= 0xd800 && r <= 0xdfff ? 0xfffd : r;
  }

  private fmtFloatBits(v: number, verb: FloatFormat, defaultPrec: number): void {
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
  private sharpFloat(num0: string, verb: string, prec: number): string {
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

  // ---------------------------------------------------------------- verbs by kind (print.go)

  private badVerb(verb: string): void {
    this.erroring = true;
    this.buf += `%!${verb}(`;
    if (this.arg !== null) {
      this.buf += `${this.arg.type.name}=`;
      this.printArg(this.arg, 'v');
    } else if (this.value !== undefined && isValid(this.value)) {
      this.buf += `${this.value.type.name}=`;
      this.printValue(this.value, 'v', 0);
    } else {
      this.buf += '<nil>';
    }
    this.buf += ')';
    this.erroring = false;
  }

  private fmtBool(v: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.pad(v ? 'true' : 'false');
    else this.badVerb(verb);
  }

  private fmtInt(v: number | bigint, isSigned: boolean, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.sharpV && !isSigned) this.fmt0x64(v, true);
        else this.fmtInteger(v, 10, isSigned, verb, LDIGITS);
        return;
      case 'd':
        return this.fmtInteger(v, 10, isSigned, verb, LDIGITS);
      case 'b':
        return this.fmtInteger(v, 2, isSigned, verb, LDIGITS);
      case 'o':
      case 'O':
        return this.fmtInteger(v, 8, isSigned, verb, LDIGITS);
      case 'x':
        return this.fmtInteger(v, 16, isSigned, verb, LDIGITS);
      case 'X':
        return this.fmtInteger(v, 16, isSigned, verb, UDIGITS);
      case 'c':
        return this.pad(String.fromCodePoint(this.runeOf(v)));
      case 'q':
        return this.pad(quoteRune(this.runeOf(v), this.plus));
      case 'U':
        return this.fmtUnicode(v);
      default:
        return this.badVerb(verb);
    }
  }

  private fmt0x64(v: number | bigint, leading0x: boolean): void {
    const sharp = this.sharp;
    this.sharp = leading0x;
    this.fmtInteger(v, 16, false, 'v', LDIGITS);
    this.sharp = sharp;
  }

  private fmtFloat(v: number, verb: string): void {
    switch (verb) {
      case 'v':
        return this.fmtFloatBits(v, 'g', -1);
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        return this.fmtFloatBits(v, verb, -1);
      case 'f':
      case 'e':
      case 'E':
        return this.fmtFloatBits(v, verb, 6);
      case 'F':
        return this.fmtFloatBits(v, 'f', 6);
      default:
        return this.badVerb(verb);
    }
  }

  private fmtComplex(v: readonly [number, number], verb: string): void {
    if (!'vbgGxXfFeE'.includes(verb)) return this.badVerb(verb);
    const oldPlus = this.plus;
    this.buf += '(';
    this.fmtFloat(v[0], verb);
    this.plus = true;
    this.fmtFloat(v[1], verb);
    this.buf += 'i)';
    this.plus = oldPlus;
  }

  private fmtString(v: string, verb: string): void {
    switch (verb) {
      case 'v':
        return this.sharpV ? this.fmtQ(v) : this.fmtS(v);
      case 's':
        return this.fmtS(v);
      case 'x':
        return this.fmtSx(v, LDIGITS);
      case 'X':
        return this.fmtSx(v, UDIGITS);
      case 'q':
        return this.fmtQ(v);
      default:
        return this.badVerb(verb);
    }
  }

  private fmtPointer(value: Value, verb: string): void {
    const kind = value.type.kind;
    if (kind !== 'map' && kind !== 'ptr' && kind !== 'slice') return this.badVerb(verb);
    const isNil = value.v === null;
    switch (verb) {
      case 'v':
        if (this.sharpV) this.buf += `(${value.type.name})(${isNil ? 'nil' : `0x${FAKE_POINTER}`})`;
        else if (isNil) this.pad('<nil>');
        else this.fmt0x64(BigInt(`0x${FAKE_POINTER}`), !this.sharp);
        return;
      case 'p':
        return this.fmt0x64(isNil ? 0n : BigInt(`0x${FAKE_POINTER}`), !this.sharp);
      case 'b':
      case 'o':
      case 'd':
      case 'x':
      case 'X':
        return this.fmtInt(isNil ? 0n : BigInt(`0x${FAKE_POINTER}`), false, verb);
      default:
        return this.badVerb(verb);
    }
  }

  private handleMethods(verb: string): boolean {
    if (this.erroring || this.arg === null || this.sharpV) return false;
    if (verb !== 'v' && verb !== 's' && verb !== 'x' && verb !== 'X' && verb !== 'q') return false;
    const stringer = stringerOf(this.arg);
    if (!stringer) return false;
    this.fmtString(stringer(), verb);
    return true;
  }

  printArg(arg: Arg, verb: string): void {
    this.arg = arg;
    this.value = undefined;
    if (arg !== null && (!isValid(arg) || arg.type.kind === 'interface')) {
      // A reflect.Value handed to fmt itself (error messages do that): printed as reflect prints it.
      this.arg = isValid(arg) ? (arg.v as Value | null) : null;
      if (this.arg !== null && this.handleMethods(verb)) return;
      this.printValue(arg, verb, 0);
      return;
    }
    if (arg === null) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb);
      return;
    }
    if (verb === 'T') return this.fmtS(arg.type.name);
    if (verb === 'p') return this.fmtPointer(arg, 'p');
    // Go's fast path covers the predeclared types only; defined types (time.Month) go through methods.
    if (arg.type.underlying === undefined) {
      const kind = arg.type.kind;
      if (kind === 'bool') return this.fmtBool(arg.v as boolean, verb);
      if (kind === 'float64') return this.fmtFloat(arg.v as number, verb);
      if (kind === 'complex128') return this.fmtComplex(arg.v as [number, number], verb);
      if (kind === 'string') return this.fmtString(arg.v as string, verb);
      if (isIntKind(kind)) return this.fmtInt(arg.v as number, true, verb);
      if (isUintKind(kind)) return this.fmtInt(arg.v as number, false, verb);
    }
    if (!this.handleMethods(verb)) this.printValue(arg, verb, 0);
  }

  private printValue(value: Value, verb: string, depth: number): void {
    if (depth > 0 && isValid(value) && value.type.kind !== 'interface') {
      this.arg = value;
      if (this.handleMethods(verb)) return;
    }
    this.arg = null;
    this.value = value;
    const kind = value.type.kind;
    const v = value.v;
    switch (kind) {
      case 'invalid':
        if (depth === 0) this.buf += '<invalid reflect.Value>';
        else if (verb === 'v') this.buf += '<nil>';
        else this.badVerb(verb);
        return;
      case 'bool':
        return this.fmtBool(v as boolean, verb);
      case 'float64':
        return this.fmtFloat(v as number, verb);
      case 'complex128':
        return this.fmtComplex(v as [number, number], verb);
      case 'string':
        return this.fmtString(v as string, verb);
      case 'map':
        return this.printMap(value, verb, depth);
      case 'struct':
        return this.printStruct(value, verb, depth);
      case 'interface': {
        const elem = v as Value | null;
        if (elem === null) this.buf += this.sharpV ? `${value.type.name}(nil)` : '<nil>';
        else this.printValue(elem, verb, depth + 1);
        return;
      }
      case 'slice':
        return this.printSlice(value, verb, depth);
      case 'ptr':
        if (depth === 0 && v !== null) {
          const elem = value.type.elem as GoType;
          if (elem.kind === 'slice' || elem.kind === 'struct' || elem.kind === 'map') {
            this.buf += '&';
            this.printValue(new Value(elem, v), verb, depth + 1);
            return;
          }
        }
        return this.fmtPointer(value, verb);
      default:
        if (isIntKind(kind)) return this.fmtInt(v as number, true, verb);
        if (isUintKind(kind)) return this.fmtInt(v as number, false, verb);
        this.buf += `?${value.type.name}?`;
    }
  }

  private printMap(value: Value, verb: string, depth: number): void {
    if (this.sharpV) {
      this.buf += value.type.name;
      if (value.v === null) {
        this.buf += '(nil)';
        return;
      }
      this.buf += '{';
    } else {
      this.buf += 'map[';
    }
    const data = (value.v ?? {}) as Record<string, unknown>;
    const keyType = value.type.key as GoType;
    const elemType = value.type.elem as GoType;
    sortedKeys(value).forEach((key, i) => {
      if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
      this.printValue(new Value(keyType, key), verb, depth + 1);
      this.buf += ':';
      this.printValue(slotValue(elemType, data[key]), verb, depth + 1);
    });
    this.buf += this.sharpV ? '}' : ']';
  }

  private printStruct(value: Value, verb: string, depth: number): void {
    if (this.sharpV) this.buf += value.type.name;
    this.buf += '{';
    const data = value.v as Record<string, unknown>;
    (value.type.fields ?? []).forEach((field, i) => {
      if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
      if (this.plusV || this.sharpV) this.buf += `${field.name}:`;
      // Types printed through their methods (time.Time) keep other data than their Go fields.
      const raw = data[field.name];
      let fieldValue = raw === undefined ? zeroValue(field.type) : slotValue(field.type, raw);
      // getField: an interface field prints its content.
      if (fieldValue.type.kind === 'interface' && fieldValue.v !== null) fieldValue = fieldValue.v as Value;
      this.printValue(fieldValue, verb, depth + 1);
    });
    this.buf += '}';
  }

  private printSlice(value: Value, verb: string, depth: number): void {
    const elemType = value.type.elem as GoType;
    const items = (value.v ?? []) as unknown[];
    if ((verb === 's' || verb === 'q' || verb === 'x' || verb === 'X') && elemType.kind === 'uint8') {
      const text = Buffer.from(items as number[]).toString('latin1');
      return this.fmtString(text, verb);
    }
    if (this.sharpV) {
      this.buf += value.type.name;
      if (value.v === null) {
        this.buf += '(nil)';
        return;
      }
      this.buf += '{';
      items.forEach((item, i) => {
        if (i > 0) this.buf += ', ';
        this.printValue(slotValue(elemType, item), verb, depth + 1);
      });
      this.buf += '}';
      return;
    }
    this.buf += '[';
    items.forEach((item, i) => {
      if (i > 0) this.buf += ' ';
      this.printValue(slotValue(elemType, item), verb, depth + 1);
    });
    this.buf += ']';
  }

  // ---------------------------------------------------------------- Printf (doPrintf)

  private intFromArg(args: readonly Arg[], argNum: number): [number, boolean, number] {
    let num = 0;
    let isInt = false;
    let next = argNum;
    if (argNum < args.length) {
      const a = args[argNum];
      if (a && (isIntKind(a.type.kind) || isUintKind(a.type.kind)) && typeof a.v === 'number') {
        num = a.v;
        isInt = true;
      }
      next = argNum + 1;
      if (num > MAX_WIDTH || num < -MAX_WIDTH) {
        num = 0;
        isInt = false;
      }
    }
    return [num, isInt, next];
  }

  private argNumber(argNum: number, format: string, i: number, numArgs: number): [number, number, boolean] {
    if (format.length <= i || format[i] !== '[') return [argNum, i, false];
    this.reordered = true;
    const [index, wid, ok] = parseArgNumber(format.slice(i));
    if (ok && index >= 0 && index < numArgs) return [index, i + wid, true];
    this.goodArgNum = false;
    return [argNum, i + wid, ok];
  }

  doPrintf(format: string, a: readonly Arg[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex: boolean;
    this.reordered = false;
    let i = 0;
    while (i < end) {
      this.goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== '%') i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++; // skip %
      this.clearflags();
      flags: for (; i < end; i++) {
        switch (format[i]) {
          case '#':
            this.sharp = true;
            break;
          case '0':
            this.zero = !this.minus; // Only allow zero padding to the left.
            break;
          case '+':
            this.plus = true;
            break;
          case '-':
            this.minus = true;
            this.zero = false; // Do not pad with zeros to the right.
            break;
          case ' ':
            this.space = true;
            break;
          default:
            break flags;
        }
      }
      [argNum, i, afterIndex] = this.argNumber(argNum, format, i, a.length);
      if (i < end && format[i] === '*') {
        i++;
        [this.wid, this.widPresent, argNum] = this.intFromArg(a, argNum);
        if (!this.widPresent) this.buf += '%!(BADWIDTH)';
        if (this.wid < 0) {
          this.wid = -this.wid;
          this.minus = true;
          this.zero = false;
        }
        afterIndex = false;
      } else {
        [this.wid, this.widPresent, i] = parsenum(format, i, end);
        if (afterIndex && this.widPresent) this.goodArgNum = false; // "%[3]2d"
      }
      if (i + 1 < end && format[i] === '.') {
        i++;
        if (afterIndex) this.goodArgNum = false; // "%[3].2d"
        [argNum, i, afterIndex] = this.argNumber(argNum, format, i, a.length);
        if (i < end && format[i] === '*') {
          i++;
          [this.prec, this.precPresent, argNum] = this.intFromArg(a, argNum);
          if (this.prec < 0) {
            this.prec = 0;
            this.precPresent = false;
          }
          if (!this.precPresent) this.buf += '%!(BADPREC)';
          afterIndex = false;
        } else {
          [this.prec, this.precPresent, i] = parsenum(format, i, end);
          if (!this.precPresent) {
            this.prec = 0;
            this.precPresent = true;
          }
        }
      }
      if (!afterIndex) [argNum, i] = this.argNumber(argNum, format, i, a.length);
      if (i >= end) {
        this.buf += '%!(NOVERB)';
        break;
      }
      const verb = String.fromCodePoint(format.codePointAt(i) as number);
      i += verb.length;
      if (verb === '%') {
        this.buf += '%'; // Percent does not absorb operands and ignores width and precision.
      } else if (!this.goodArgNum) {
        this.buf += `%!${verb}(BADINDEX)`;
      } else if (argNum >= a.length) {
        this.buf += `%!${verb}(MISSING)`;
      } else {
        if (verb === 'v') {
          this.sharpV = this.sharp;
          this.sharp = false;
          this.plusV = this.plus;
          this.plus = false;
        }
        this.printArg(a[argNum] ?? null, verb);
        argNum++;
      }
    }
    if (!this.reordered && argNum < a.length) {
      this.clearflags();
      this.buf += '%!(EXTRA ';
      a.slice(argNum).forEach((arg, k) => {
        if (k > 0) this.buf += ', ';
        if (arg === null || !isValid(arg)) {
          this.buf += '<nil>';
        } else {
          this.buf += `${arg.type.name}=`;
          this.printArg(arg, 'v');
        }
      });
      this.buf += ')';
    }
  }
}

function parsenum(s: string, start: number, end: number): [number, boolean, number] {
  if (start >= end) return [0, false, end];
  let num = 0;
  let isnum = false;
  let i = start;
  for (; i < end && s[i] !== undefined && (s[i] as string) >= '0' && (s[i] as string) <= '9'; i++) {
    if (num > MAX_WIDTH || num < -MAX_WIDTH) return [0, false, end]; // Overflow; crazy long number.
    num = num * 10 + (s.charCodeAt(i) - 48);
    isnum = true;
  }
  return [num, isnum, i];
}

function parseArgNumber(format: string): [number, number, boolean] {
  if (format.length < 3) return [0, 1, false];
  for (let i = 1; i < format.length; i++) {
    if (format[i] === ']') {
      const [width, ok, newi] = parsenum(format, 1, i);
      if (!ok || newi !== i) return [0, i + 1, false];
      return [width - 1, i + 1, true];
    }
  }
  return [0, 1, false];
}
