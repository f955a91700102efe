import { Format, LDIGITS, UDIGITS } from './fmt-format.js';
import { stringerOf } from './methods.js';
import { quoteRune } from './strconv.js';
import type { GoType } from './types.js';
import { isIntKind, isUintKind } from './types.js';
import { isValid, slotValue, sortedKeys, Value, zeroValue } from './values.js';

/**
 * Go's fmt (print.go) over template values: Sprint and Sprintln here, Sprintf in fmt-printf.ts, with
 * every verb, %v of slices, maps and structs, and the %!verb(type=value) forms for mistakes. Arguments
 * are what a Go function taking ...interface{} receives: a value, or null for a nil interface.
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

/** A fake but stable address for the pointers Go would print: Go's own are different on every run. */
const FAKE_POINTER = 'c000010000';

export class Printer extends Format {
  protected arg: Arg = null;
  protected value: Value | undefined;
  protected erroring = false;
  protected reordered = false;
  protected goodArgNum = true;

  // ---------------------------------------------------------------- verbs by kind (print.go)

  protected badVerb(verb: string): void {
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

  protected fmtBool(v: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.pad(v ? 'true' : 'false');
    else this.badVerb(verb);
  }

  protected fmtInt(v: number | bigint, isSigned: boolean, verb: string): void {
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

  protected fmt0x64(v: number | bigint, leading0x: boolean): void {
    const sharp = this.sharp;
    this.sharp = leading0x;
    this.fmtInteger(v, 16, false, 'v', LDIGITS);
    this.sharp = sharp;
  }

  protected fmtFloat(v: number, verb: string): void {
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

  protected fmtComplex(v: readonly [number, number], verb: string): void {
    if (!'vbgGxXfFeE'.includes(verb)) return this.badVerb(verb);
    const oldPlus = this.plus;
    this.buf += '(';
    this.fmtFloat(v[0], verb);
    this.plus = true;
    this.fmtFloat(v[1], verb);
    this.buf += 'i)';
    this.plus = oldPlus;
  }

  protected fmtString(v: string, verb: string): void {
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

  protected fmtPointer(value: Value, verb: string): void {
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

  protected handleMethods(verb: string): boolean {
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

  protected printValue(value: Value, verb: string, depth: number): void {
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

  protected printMap(value: Value, verb: string, depth: number): void {
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

  protected printStruct(value: Value, verb: string, depth: number): void {
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

  protected printSlice(value: Value, verb: string, depth: number): void {
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
}
