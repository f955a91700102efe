import { expect } from 'chai';
import fc from 'fast-check';
import { BadPatternError, pathMatch, pathMatcher } from '../../../src/template/path-match.js';

/** One element of a well-formed pattern, kept structured so the reference below can match it. */
type Token =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'literal'; char: string; escaped: boolean }
  | { kind: 'class'; negated: boolean; ranges: [string, string][] };

/** A small alphabet so that patterns and names meet; includes '/' and the characters with meaning. */
const ALPHABET = ['a', 'b', 'c', '/', '-', ']', '^', '*', '?', '[', '\\', 'é', '🚀'];
const SPECIAL = new Set(['*', '?', '[', '\\']);
const char = fc.constantFrom(...ALPHABET);
const nameArb = fc.array(char, { maxLength: 10 }).map((cs) => cs.join(''));

/** A class member, escaped whenever Go's syntax needs it ('-', ']', '\\' and a leading '^'). */
const classChar = fc.constantFrom(...ALPHABET);

const token: fc.Arbitrary<Token> = fc.oneof(
  fc.constant<Token>({ kind: 'star' }),
  fc.constant<Token>({ kind: 'any' }),
  char.map<Token>((c) => ({ kind: 'literal', char: c, escaped: SPECIAL.has(c) })),
  // A needless escape is allowed too: "\a" matches "a".
  char.map<Token>((c) => ({ kind: 'literal', char: c, escaped: true })),
  fc
    .record({
      negated: fc.boolean(),
      ranges: fc.array(fc.tuple(classChar, fc.option(classChar, { nil: undefined })), {
        minLength: 1,
        maxLength: 3,
      }),
    })
    .map<Token>(({ negated, ranges }) => ({
      kind: 'class',
      negated,
      ranges: ranges.map(([lo, hi]) => [lo, hi ?? lo]),
    })),
);

const codePoint = (c: string): number => c.codePointAt(0) as number;
const SLASH = codePoint('/');

/**
 * Go's matcher is greedy: it takes the first place a chunk matches and never reconsiders. That equals the
 * declarative reading below except where a class matches '/': path.Match("*[^a]*", "-/") is false in Go
 * (checked against Go's path package), though "-" + "/" + "" would fit. So for the comparison, classes
 * never match '/': a negated class lists it, a plain one does not cover it.
 */
const slashFreeToken: fc.Arbitrary<Token> = token.map((t) => {
  if (t.kind !== 'class') return t;
  if (t.negated) return { ...t, ranges: [...t.ranges, ['/', '/']] };
  const ranges = t.ranges.filter(([lo, hi]) => !(codePoint(lo) <= SLASH && SLASH <= codePoint(hi)));
  return ranges.length > 0 ? { ...t, ranges } : { kind: 'any' };
});

function writeClassChar(c: string): string {
  return c === '-' || c === ']' || c === '\\' || c === '^' ? `\\${c}` : c;
}

function writePattern(tokens: readonly Token[]): string {
  return tokens
    .map((t) => {
      switch (t.kind) {
        case 'star':
          return '*';
        case 'any':
          return '?';
        case 'literal':
          return t.escaped ? `\\${t.char}` : t.char;
        case 'class':
          return `[${t.negated ? '^' : ''}${t.ranges
            .map(([lo, hi]) =>
              lo === hi ? writeClassChar(lo) : `${writeClassChar(lo)}-${writeClassChar(hi)}`,
            )
            .join('')}]`;
      }
    })
    .join('');
}

/**
 * The reference: Go's documented semantics, matched by plain backtracking over code points. '*' is any run
 * of non-'/' characters, '?' one non-'/' character, a class one character (which may be '/') in or (with
 * '^') not in its ranges.
 */
function referenceMatch(tokens: readonly Token[], name: readonly string[], t = 0, n = 0): boolean {
  if (t === tokens.length) return n === name.length;
  const tok = tokens[t] as Token;
  if (tok.kind === 'star') {
    for (let end = n; end <= name.length; end++) {
      if (referenceMatch(tokens, name, t + 1, end)) return true;
      if (name[end] === '/' || end === name.length) return false;
    }
    return false;
  }
  if (n === name.length) return false;
  const c = name[n] as string;
  let ok: boolean;
  if (tok.kind === 'any') ok = c !== '/';
  else if (tok.kind === 'literal') ok = c === tok.char;
  else {
    const cp = c.codePointAt(0) as number;
    const inRanges = tok.ranges.some(
      ([lo, hi]) => (lo.codePointAt(0) as number) <= cp && cp <= (hi.codePointAt(0) as number),
    );
    ok = inRanges !== tok.negated;
  }
  return ok && referenceMatch(tokens, name, t + 1, n + 1);
}

/** Any text at all, and text made of pattern pieces (more likely to be nearly well-formed). */
const anyPattern = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.array(fc.constantFrom(...ALPHABET, '[^', 'a-', '-]', '\\\\'), { maxLength: 10 }).map((p) => p.join('')),
);

function outcome(pattern: string, name: string): boolean | 'bad' {
  try {
    return pathMatch(pattern, name);
  } catch (err) {
    expect(err, `pattern ${JSON.stringify(pattern)}`).to.be.instanceOf(BadPatternError);
    return 'bad';
  }
}

describe('pathMatch (properties)', () => {
  it('agrees with a reference matcher on every well-formed pattern', () => {
    fc.assert(
      fc.property(fc.array(slashFreeToken, { maxLength: 7 }), nameArb, (tokens, name) => {
        const pattern = writePattern(tokens);
        expect(pathMatch(pattern, name), `${JSON.stringify(pattern)} vs ${JSON.stringify(name)}`).to.equal(
          referenceMatch(tokens, Array.from(name)),
        );
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps Go’s greedy answers where a class matches "/" (results taken from Go’s path.Match)', () => {
    expect(pathMatch('*[^a]*', '-/')).to.equal(false);
    expect(pathMatch('*[^a]', '-/')).to.equal(true);
    expect(pathMatch('a[^x]b', 'a/b')).to.equal(true);
    expect(pathMatch('*[/]*', 'x/y')).to.equal(true);
    expect(pathMatch('*?', 'a/')).to.equal(false);
  });

  it('throws nothing but BadPatternError, and whether it throws does not depend on the name', () => {
    fc.assert(
      fc.property(anyPattern, nameArb, nameArb, (pattern, one, other) => {
        const first = outcome(pattern, one);
        const second = outcome(pattern, other);
        expect(first === 'bad', JSON.stringify(pattern)).to.equal(second === 'bad');
        expect(outcome(pattern, '') === 'bad').to.equal(first === 'bad');
      }),
      { numRuns: 5000 },
    );
  });

  it('a fully escaped pattern matches exactly its own text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 8 }),
        fc.string({ unit: 'binary', maxLength: 8 }),
        (s, t) => {
          const escaped = Array.from(s, (c) => `\\${c}`).join('');
          expect(pathMatch(escaped, s)).to.equal(true);
          expect(pathMatch(escaped, t)).to.equal(s === t);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('"*" matches exactly the names without "/", and "?" exactly the one-character ones', () => {
    fc.assert(
      fc.property(nameArb, (name) => {
        expect(pathMatch('*', name)).to.equal(!name.includes('/'));
        expect(pathMatch('?', name)).to.equal(Array.from(name).length === 1 && name !== '/');
      }),
    );
  });

  it('segments match independently: p1/p2 matches n1/n2 when each part matches its own', () => {
    const slashless = (arb: fc.Arbitrary<Token[]>) =>
      arb.filter((ts) => ts.every((t) => t.kind !== 'literal' || t.char !== '/'));
    fc.assert(
      fc.property(
        slashless(fc.array(token, { maxLength: 4 })),
        slashless(fc.array(token, { maxLength: 4 })),
        nameArb.filter((n) => !n.includes('/')),
        nameArb.filter((n) => !n.includes('/')),
        (p1, p2, n1, n2) => {
          const [a, b] = [writePattern(p1), writePattern(p2)];
          fc.pre(pathMatch(a, n1) && pathMatch(b, n2));
          expect(pathMatch(`${a}/${b}`, `${n1}/${n2}`)).to.equal(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('pathMatcher (pathMatch with the pattern fixed)', () => {
  const patternArb = fc.oneof(
    fc.array(char, { maxLength: 8 }).map((cs) => cs.join('')),
    fc.array(char, { maxLength: 6 }).map((cs) => `${cs.join('')}*`),
    nameArb.map((n) => `${n.replace(/[*?[\\]/g, '')}*`),
  );

  it('answers as pathMatch does, bad patterns included', () => {
    fc.assert(
      fc.property(patternArb, fc.array(nameArb, { maxLength: 6 }), (pattern, names) => {
        let matches: ((name: string) => boolean) | undefined;
        try {
          matches = pathMatcher(pattern);
        } catch (err) {
          expect(err).to.be.instanceOf(BadPatternError);
          expect(() => pathMatch(pattern, '')).to.throw(BadPatternError);
          return;
        }
        for (const name of [...names, pattern, pattern.slice(0, -1), `${pattern.slice(0, -1)}x/y`])
          expect(matches(name), `${pattern} vs ${name}`).to.equal(pathMatch(pattern, name));
      }),
      { numRuns: 5000 },
    );
  });
});
