import { quote } from './go/strconv.js';

/**
 * encoding/json's Unmarshal into interface {} as confd's json and jsonArray use it: the same syntax
 * errors, byte for byte ("invalid character 'x' after object key", "unexpected end of JSON input"),
 * found by a port of Go's scanner state machine (encoding/json/scanner.go); valid input is then decoded
 * by JSON.parse, which reads the same grammar. Numbers beyond float64 are Go's UnmarshalTypeError.
 */
export class GoJsonError extends Error {
  override name = 'GoJsonError';
}

type Step = (c: number) => Result;

const enum Result {
  Continue,
  Error,
  End,
}

const enum Parse {
  ObjectKey,
  ObjectValue,
  ArrayValue,
}

const MAX_NESTING_DEPTH = 10000;

/** json.Unmarshal(text, &v) for an interface {} v: the decoded value, or Go's error. */
export function unmarshalJson(text: string): unknown {
  const bytes = Buffer.from(text, 'utf8');
  const error = new Scanner().check(bytes);
  if (error) throw new GoJsonError(error);
  const value = JSON.parse(text) as unknown;
  const huge = findHugeNumber(text);
  if (huge !== undefined) {
    throw new GoJsonError(`json: cannot unmarshal number ${huge} into Go value of type float64`);
  }
  return value;
}

/** The first number literal that float64 cannot hold (Go rejects it; JSON.parse makes it Infinity). */
function findHugeNumber(text: string): string | undefined {
  if (!/[eE]|\d{309}/.test(text)) return undefined;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    const m = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (m && (c === '-' || (c >= '0' && c <= '9'))) {
      if (!Number.isFinite(Number(m[0]))) return m[0];
      i += m[0].length - 1;
    }
  }
  return undefined;
}

/** strconv.Quote of a single byte (taken as a rune, as Go does), in single quotes. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  return `'${quote(String.fromCharCode(c)).slice(1, -1)}'`;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

class Scanner {
  private step: Step = (c) => this.beginValue(c);
  private endTop = false;
  private readonly parseState: Parse[] = [];
  private err: string | undefined;

  check(data: Buffer): string | undefined {
    for (const c of data) {
      if (this.step(c) === Result.Error) return this.err;
    }
    return this.eof();
  }

  private eof(): string | undefined {
    if (this.err !== undefined) return this.err;
    if (this.endTop) return undefined;
    this.step(0x20);
    if (this.endTop) return undefined;
    this.err ??= 'unexpected end of JSON input';
    return this.err;
  }

  private error(c: number, context: string): Result {
    this.step = () => Result.Error;
    this.err = `invalid character ${quoteChar(c)} ${context}`;
    return Result.Error;
  }

  private push(c: number, state: Parse): Result {
    this.parseState.push(state);
    return this.parseState.length <= MAX_NESTING_DEPTH
      ? Result.Continue
      : this.error(c, 'exceeded max depth');
  }

  private pop(): void {
    this.parseState.pop();
    if (this.parseState.length === 0) {
      this.step = (c) => this.endTopState(c);
      this.endTop = true;
    } else {
      this.step = (c) => this.endValue(c);
    }
  }

  private go(step: Step): Result {
    this.step = step;
    return Result.Continue;
  }

  private beginValueOrEmpty(c: number): Result {
    if (isSpace(c)) return Result.Continue;
    if (c === 0x5d) return this.endValue(c);
    return this.beginValue(c);
  }

  private beginValue(c: number): Result {
    if (isSpace(c)) return Result.Continue;
    switch (c) {
      case 0x7b: // {
        this.step = (x) => this.beginStringOrEmpty(x);
        return this.push(c, Parse.ObjectKey);
      case 0x5b: // [
        this.step = (x) => this.beginValueOrEmpty(x);
        return this.push(c, Parse.ArrayValue);
      case 0x22:
        return this.go((x) => this.inString(x));
      case 0x2d:
        return this.go((x) => this.neg(x));
      case 0x30:
        return this.go((x) => this.zero(x));
      case 0x74:
        return this.go(this.literal('true', 1));
      case 0x66:
        return this.go(this.literal('false', 1));
      case 0x6e:
        return this.go(this.literal('null', 1));
    }
    if (c >= 0x31 && c <= 0x39) return this.go((x) => this.one(x));
    return this.error(c, 'looking for beginning of value');
  }

  private beginStringOrEmpty(c: number): Result {
    if (isSpace(c)) return Result.Continue;
    if (c === 0x7d) {
      this.parseState[this.parseState.length - 1] = Parse.ObjectValue;
      return this.endValue(c);
    }
    return this.beginString(c);
  }

  private beginString(c: number): Result {
    if (isSpace(c)) return Result.Continue;
    if (c === 0x22) return this.go((x) => this.inString(x));
    return this.error(c, 'looking for beginning of object key string');
  }

  private endValue(c: number): Result {
    const n = this.parseState.length;
    if (n === 0) {
      this.step = (x) => this.endTopState(x);
      this.endTop = true;
      return this.endTopState(c);
    }
    if (isSpace(c)) return this.go((x) => this.endValue(x));
    switch (this.parseState[n - 1]) {
      case Parse.ObjectKey:
        if (c === 0x3a) {
          this.parseState[n - 1] = Parse.ObjectValue;
          return this.go((x) => this.beginValue(x));
        }
        return this.error(c, 'after object key');
      case Parse.ObjectValue:
        if (c === 0x2c) {
          this.parseState[n - 1] = Parse.ObjectKey;
          return this.go((x) => this.beginString(x));
        }
        if (c === 0x7d) {
          this.pop();
          return Result.Continue;
        }
        return this.error(c, 'after object key:value pair');
      default:
        if (c === 0x2c) return this.go((x) => this.beginValue(x));
        if (c === 0x5d) {
          this.pop();
          return Result.Continue;
        }
        return this.error(c, 'after array element');
    }
  }

  private endTopState(c: number): Result {
    // Go records the error but still reports the end; the next byte (or the end of input) returns it.
    if (!isSpace(c)) this.error(c, 'after top-level value');
    return Result.End;
  }

  private inString(c: number): Result {
    if (c === 0x22) return this.go((x) => this.endValue(x));
    if (c === 0x5c) return this.go((x) => this.inStringEsc(x));
    if (c < 0x20) return this.error(c, 'in string literal');
    return Result.Continue;
  }

  private inStringEsc(c: number): Result {
    if ('bfnrt\\/"'.includes(String.fromCharCode(c))) return this.go((x) => this.inString(x));
    if (c === 0x75) return this.go(this.hexEscape(4));
    return this.error(c, 'in string escape code');
  }

  private hexEscape(left: number): Step {
    return (c) => {
      if (!isHex(c)) return this.error(c, 'in \\u hexadecimal character escape');
      return this.go(left === 1 ? (x) => this.inString(x) : this.hexEscape(left - 1));
    };
  }

  private neg(c: number): Result {
    if (c === 0x30) return this.go((x) => this.zero(x));
    if (c >= 0x31 && c <= 0x39) return this.go((x) => this.one(x));
    return this.error(c, 'in numeric literal');
  }

  private one(c: number): Result {
    if (isDigit(c)) return Result.Continue;
    return this.zero(c);
  }

  private zero(c: number): Result {
    if (c === 0x2e) return this.go((x) => this.dot(x));
    if (c === 0x65 || c === 0x45) return this.go((x) => this.exponent(x));
    return this.endValue(c);
  }

  private dot(c: number): Result {
    if (isDigit(c)) return this.go((x) => this.dot0(x));
    return this.error(c, 'after decimal point in numeric literal');
  }

  private dot0(c: number): Result {
    if (isDigit(c)) return Result.Continue;
    if (c === 0x65 || c === 0x45) return this.go((x) => this.exponent(x));
    return this.endValue(c);
  }

  private exponent(c: number): Result {
    if (c === 0x2b || c === 0x2d) return this.go((x) => this.exponentSign(x));
    return this.exponentSign(c);
  }

  private exponentSign(c: number): Result {
    if (isDigit(c)) return this.go((x) => this.exponentDigits(x));
    return this.error(c, 'in exponent of numeric literal');
  }

  private exponentDigits(c: number): Result {
    if (isDigit(c)) return Result.Continue;
    return this.endValue(c);
  }

  /** true / false / null after their first letter. */
  private literal(word: string, at: number): Step {
    return (c) => {
      const expected = word.charCodeAt(at);
      if (c !== expected) return this.error(c, `in literal ${word} (expecting '${word[at]}')`);
      return this.go(at === word.length - 1 ? (x) => this.endValue(x) : this.literal(word, at + 1));
    };
  }
}
