/**
 * What a YAML scalar means to Go's yaml.v2 decoding into interface{} (and so to confd's file backend):
 * its resolve() (resolve.go) and the scalar half of its decoder (decode.go), ported rule for rule. The
 * parse itself is js-yaml's (file-data.ts); only the meaning of a scalar's text is decided here, since
 * yaml.v2's rules are not any YAML schema's: YAML 1.1's booleans (`yes`, `on`, `y`), Go's integer syntax
 * (`0755` octal, `0x1F`, `0b101`, `0o17`, underscores anywhere), a float only where an integer does not
 * parse, and no base-60 numbers or timestamps (a string into interface{}).
 */

/** A scalar that yaml.v2 refuses (an explicit tag its text does not fit): the decode fails. */
export class ScalarTagError extends Error {}

const MAPPED = new Map<string, unknown>([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map((s) => [s, true] as const),
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map(
    (s) => [s, false] as const,
  ),
  ...['', '~', 'null', 'Null', 'NULL'].map((s) => [s, null] as const),
  ...['.nan', '.NaN', '.NAN'].map((s) => [s, Number.NaN] as const),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((s) => [s, Infinity] as const),
  ...['-.inf', '-.Inf', '-.INF'].map((s) => [s, -Infinity] as const),
]);

/** yaml.v2's resolveTable: the first character says what a plain scalar may be. */
function hint(text: string): 'map' | 'float' | 'number' | undefined {
  const c = text.charAt(0);
  if (c === '') return 'map';
  if ('yYnNtTfFoO~'.includes(c)) return 'map';
  if (c === '.') return 'float';
  if (c === '+' || c === '-' || (c >= '0' && c <= '9')) return 'number';
  return undefined;
}

const YAML_STYLE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
/** What Go's ParseFloat accepts of a text starting with `.` (Go literal syntax: `_` between digits). */
const DOT_FLOAT = /^\.[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9](?:_?[0-9])*)?$/;
const DIGITS: Record<number, RegExp> = { 2: /^[01]*$/, 8: /^[0-7]*$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ };
const PREFIX: Record<number, string> = { 2: '0b', 8: '0o', 10: '', 16: '0x' };
const INT64_LIMIT = 1n << 63n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Go's strconv.ParseUint(text, 0, 64) (underscores already removed); undefined where it fails. */
function parseUint(text: string): bigint | undefined {
  if (text === '') return undefined;
  let base = 10;
  let digits = text;
  if (text.startsWith('0')) {
    const prefix = text.charAt(1).toLowerCase();
    if (text.length >= 3 && (prefix === 'b' || prefix === 'o' || prefix === 'x')) {
      base = prefix === 'b' ? 2 : prefix === 'o' ? 8 : 16;
      digits = text.slice(2);
    } else {
      base = 8;
      digits = text.slice(1);
    }
  }
  if (!DIGITS[base]?.test(digits)) return undefined;
  const value = digits === '' ? 0n : BigInt(`${PREFIX[base] ?? ''}${digits}`);
  return value <= UINT64_MAX ? value : undefined;
}

/** Go's strconv.ParseInt(text, 0, 64). */
function parseInt64(text: string): bigint | undefined {
  const negative = text.startsWith('-');
  const magnitude = parseUint(negative || text.startsWith('+') ? text.slice(1) : text);
  if (magnitude === undefined) return undefined;
  if (negative) return magnitude <= INT64_LIMIT ? -magnitude : undefined;
  return magnitude < INT64_LIMIT ? magnitude : undefined;
}

/** Go's ParseFloat of a text it accepts syntactically: out of range is an error there, not ±Inf. */
function finiteFloat(text: string): number | undefined {
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Only the date formats yaml.v2 tries (parseTimestamp), for an explicit `!!timestamp`. */
const TIMESTAMP =
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?$/;

type Resolved = { tag: string; value: unknown };

/** resolve.go's resolve(): the tag a scalar's text resolves to, and its value. */
function resolve(tag: string, text: string): Resolved {
  const resolvable = ['', '!!str', '!!bool', '!!int', '!!float', '!!null', '!!timestamp'].includes(tag);
  if (!resolvable) return { tag, value: text };
  const kind = hint(text);
  if (kind !== undefined && tag !== '!!str') {
    if (MAPPED.has(text)) {
      const value = MAPPED.get(text);
      return { tag: typeof value === 'boolean' ? '!!bool' : value === null ? '!!null' : '!!float', value };
    }
    if (kind === 'float' && DOT_FLOAT.test(text)) {
      const value = finiteFloat(text.replaceAll('_', ''));
      if (value !== undefined) return { tag: '!!float', value };
    }
    if (kind === 'number') {
      // A timestamp decodes to its text (yaml.v2 keeps interface{} values strings for compatibility).
      if ((tag === '' || tag === '!!timestamp') && TIMESTAMP.test(text))
        return { tag: '!!timestamp', value: text };
      const plain = text.replaceAll('_', '');
      const int = parseInt64(plain) ?? parseUint(plain);
      if (int !== undefined) return { tag: '!!int', value: int };
      if (YAML_STYLE_FLOAT.test(plain)) {
        const value = finiteFloat(plain);
        if (value !== undefined) return { tag: '!!float', value };
      }
    }
  }
  return { tag: '!!str', value: text };
}

/**
 * The value yaml.v2 decodes a scalar to: `tag` is its explicit tag in short form (`!!int`, `!foo`) or ''
 * when it has none, `plain` whether it was written without quotes or block indicators (only those are
 * resolved; any other untagged scalar is a string). Integers are BigInts (Go's int64 and uint64 are exact),
 * floats numbers, `!!binary` the decoded bytes as text, null for a null. A tag the text does not fit
 * throws ScalarTagError naming both tags, never the text (it may be a secret).
 */
export function decodeScalar(tag: string, text: string, plain: boolean): unknown {
  if (tag === '' && !plain) return text;
  const resolved = resolve(tag, text);
  if (tag !== '' && tag !== resolved.tag && tag !== '!!str' && tag !== '!!binary') {
    if (tag === '!!float' && resolved.tag === '!!int') return Number(resolved.value);
    throw new ScalarTagError(`cannot decode a ${resolved.tag} value as a ${tag}`);
  }
  if (resolved.tag === '!!binary') {
    // Go's base64.StdEncoding: padding required, line breaks ignored.
    const base64 = text.replace(/[\r\n]/g, '');
    if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64))
      throw new ScalarTagError('!!binary value contains invalid base64 data');
    return Buffer.from(base64, 'base64').toString('utf8');
  }
  return resolved.value;
}

/** yaml.v2's shortTag: `tag:yaml.org,2002:int` is `!!int`; any other tag as it is. */
export function shortTag(tag: string): string {
  const long = 'tag:yaml.org,2002:';
  return tag.startsWith(long) ? `!!${tag.slice(long.length)}` : tag;
}
