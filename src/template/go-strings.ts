/**
 * Go strings are UTF-8 bytes: sort order and len() are bytewise. JavaScript compares UTF-16 code units,
 * which disagrees with Go for characters above U+FFFF, so ordering goes by code point (same as UTF-8 order).
 */
export function compareGoStrings(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length) {
    const ca = a.codePointAt(i) as number;
    const cb = b.codePointAt(i) as number;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
  }
  return Math.sign(a.length - b.length);
}

/** len(s) in Go: the number of UTF-8 bytes. */
export function goByteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Go's strings.ToUpper/ToLower use simple (one-to-one) case mapping: "ß" stays "ß", never "SS". */
export function goToUpper(s: string): string {
  return mapRunes(s, (r) => r.toUpperCase());
}

export function goToLower(s: string): string {
  return mapRunes(s, (r) => r.toLowerCase());
}

function mapRunes(s: string, map: (rune: string) => string): string {
  let out = '';
  for (const rune of s) {
    const mapped = map(rune);
    out += [...mapped].length === 1 ? mapped : rune;
  }
  return out;
}
