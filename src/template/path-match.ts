import { ConfdError } from '../errors.js';

/** A malformed gets/getvs pattern (Go's path.ErrBadPattern). */
export class BadPatternError extends ConfdError {
  constructor(readonly pattern: string) {
    super(`syntax error in pattern: ${pattern}`);
  }
}

/** Thrown deep inside the matcher; pathMatch turns it into a BadPatternError naming the whole pattern. */
class Malformed extends Error {}

/**
 * A faithful port of Go's path.Match, which confd's gets/getvs use: '*' matches any run of non-'/'
 * characters, '?' one non-'/' character, '[a-z]' / '[^x]' character classes and '\' escapes. The whole
 * pattern is validated even when the name stops matching early, exactly as Go (1.16+) does. Works on code
 * points where Go works on UTF-8 bytes; for valid text the results are the same.
 */
export function pathMatch(pattern: string, name: string): boolean {
  try {
    return match(Array.from(pattern), Array.from(name));
  } catch (err) {
    if (err instanceof Malformed) throw new BadPatternError(pattern);
    throw err;
  }
}

/**
 * pathMatch with `pattern` fixed: validated once, here (a BadPatternError as pathMatch throws it). The
 * shapes gets is nearly always given, a literal key or a literal directory then '*', are matched without
 * splitting either string into code points: `gets "/k/*"` over 10,000 keys spent more there than printing.
 */
export function pathMatcher(pattern: string): (name: string) => boolean {
  pathMatch(pattern, '');
  const meta = /[*?[\\]/.exec(pattern);
  if (meta === null) return (name) => name === pattern;
  if (meta.index === pattern.length - 1 && pattern.endsWith('*')) {
    const literal = pattern.slice(0, -1);
    return (name) => name.startsWith(literal) && !name.includes('/', literal.length);
  }
  return (name) => pathMatch(pattern, name);
}

function match(pattern: string[], name: string[]): boolean {
  let rest = pattern;
  let subject = name;
  nextChunk: while (rest.length > 0) {
    const { star, chunk, after } = scanChunk(rest);
    rest = after;
    // A trailing star matches the rest of the name unless it crosses a '/'.
    if (star && chunk.length === 0) return !subject.includes('/');
    const here = matchChunk(chunk, subject);
    if (here !== null && (here.length === 0 || rest.length > 0)) {
      subject = here;
      continue;
    }
    if (star) {
      // Let the star swallow i+1 characters, but never a '/'.
      for (let i = 0; i < subject.length && subject[i] !== '/'; i++) {
        const skipped = matchChunk(chunk, subject.slice(i + 1));
        if (skipped !== null) {
          if (rest.length === 0 && skipped.length > 0) continue;
          subject = skipped;
          continue nextChunk;
        }
      }
    }
    // No match: still report a malformed remainder, as Go does.
    while (rest.length > 0) {
      const next = scanChunk(rest);
      rest = next.after;
      matchChunk(next.chunk, []);
    }
    return false;
  }
  return subject.length === 0;
}

/** Splits off the next run of non-star pattern, noting whether stars preceded it. */
function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; after: string[] } {
  let start = 0;
  while (start < pattern.length && pattern[start] === '*') start++;
  let inRange = false;
  let i = start;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        if (i + 1 < pattern.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star: start > 0, chunk: pattern.slice(start, i), after: pattern.slice(i) };
}

/**
 * Matches a star-free chunk against the start of `s`; returns what is left of `s`, or null. After a
 * mismatch it keeps walking the chunk only to validate its syntax.
 */
function matchChunk(chunk: string[], s: string[]): string[] | null {
  let c = 0;
  let i = 0;
  let failed = false;
  while (c < chunk.length) {
    if (!failed && i >= s.length) failed = true;
    const ch = chunk[c];
    if (ch === '[') {
      let rune = 0;
      if (!failed) rune = (s[i++] as string).codePointAt(0) as number;
      c++;
      let negated = false;
      if (chunk[c] === '^') {
        negated = true;
        c++;
      }
      let matched = false;
      let ranges = 0;
      for (;;) {
        if (chunk[c] === ']' && ranges > 0) {
          c++;
          break;
        }
        const lo = classChar(chunk, c);
        let hi = lo;
        c = lo.next;
        if (chunk[c] === '-') {
          hi = classChar(chunk, c + 1);
          c = hi.next;
        }
        if (lo.rune <= rune && rune <= hi.rune) matched = true;
        ranges++;
      }
      if (matched === negated) failed = true;
    } else if (ch === '?') {
      if (!failed) {
        if (s[i] === '/') failed = true;
        i++;
      }
      c++;
    } else {
      if (ch === '\\') {
        c++;
        if (c >= chunk.length) throw new Malformed();
      }
      if (!failed) {
        if (chunk[c] !== s[i]) failed = true;
        i++;
      }
      c++;
    }
  }
  return failed ? null : s.slice(i);
}

/** One possibly escaped character of a class; a class must not end right after it (Go's getEsc). */
function classChar(chunk: string[], at: number): { rune: number; next: number } {
  let c = at;
  const ch = chunk[c];
  if (ch === undefined || ch === '-' || ch === ']') throw new Malformed();
  if (ch === '\\') {
    c++;
    if (c >= chunk.length) throw new Malformed();
  }
  const rune = (chunk[c] as string).codePointAt(0) as number;
  c++;
  if (c >= chunk.length) throw new Malformed();
  return { rune, next: c };
}
