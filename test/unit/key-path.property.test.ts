import { expect } from 'chai';
import fc from 'fast-check';
import { cleanKey, joinKey, keyIsUnder, stripPrefix } from '../../src/key-path.js';
import { goClean } from '../../src/template/go-path.js';

/** Key-ish text: segments of letters, dots and unicode, with stray, doubled and trailing slashes. */
const keyText = fc
  .array(fc.oneof(fc.constantFrom('', '.', '..', '/', '//', 'a', 'b', 'ab', 'é', '🚀', ' x '), fc.string()), {
    maxLength: 8,
  })
  .map((parts) => parts.join('/'));
const anyText = fc.oneof(keyText, fc.string({ unit: 'binary' }));
/** Key text without ".." segments (which clamp at the root and so break associativity, rightly). */
const noDotDot = anyText.map((k) => k.replace(/(^|\/)\.\.(?=\/|$)/g, '$1_'));
/** A clean key, as resources and prefixes hold them. */
const clean = anyText.map(cleanKey);

const isClean = (k: string): boolean =>
  k.startsWith('/') &&
  !k.includes('//') &&
  (k === '/' || !k.endsWith('/')) &&
  k
    .split('/')
    .slice(1)
    .every((segment) => segment !== '.' && segment !== '..');

describe('key paths (properties)', () => {
  it('cleanKey is Go’s path.Clean of the key made absolute', () => {
    fc.assert(
      fc.property(anyText, (k) => {
        expect(cleanKey(k)).to.equal(goClean(`/${k}`));
      }),
      { numRuns: 1000 },
    );
  });

  it('cleanKey is idempotent and always yields an absolute, clean key', () => {
    fc.assert(
      fc.property(anyText, (k) => {
        const once = cleanKey(k);
        expect(cleanKey(once)).to.equal(once);
        expect(isClean(once), once).to.equal(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('joinKey is the clean key of the parts joined by "/", and is clean itself', () => {
    fc.assert(
      fc.property(fc.array(anyText, { maxLength: 4 }), (parts) => {
        const joined = joinKey(...parts);
        expect(joined).to.equal(cleanKey(parts.join('/')));
        expect(isClean(joined)).to.equal(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('joinKey is associative (without "..") and has "/" and "" as identities', () => {
    fc.assert(
      fc.property(noDotDot, noDotDot, noDotDot, (a, b, c) => {
        expect(joinKey(joinKey(a, b), c)).to.equal(joinKey(a, joinKey(b, c)));
        expect(joinKey('/', a)).to.equal(cleanKey(a));
        expect(joinKey(a, '')).to.equal(cleanKey(a));
      }),
    );
  });

  it('keyIsUnder: reflexive, "/" covers everything, joined keys lie under their base, transitive', () => {
    fc.assert(
      fc.property(clean, noDotDot, noDotDot, (base, x, y) => {
        expect(keyIsUnder(base, base)).to.equal(true);
        expect(keyIsUnder(base, '/')).to.equal(true);
        const below = joinKey(base, x);
        expect(keyIsUnder(below, base), `${below} under ${base}`).to.equal(true);
        const further = joinKey(below, y);
        expect(keyIsUnder(further, below) && keyIsUnder(further, base)).to.equal(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('keyIsUnder respects segment boundaries: /app/dbx is not under /app/db', () => {
    fc.assert(
      fc.property(
        clean,
        fc.string({ minLength: 1 }).filter((s) => !s.includes('/')),
        (base, suffix) => {
          fc.pre(base !== '/');
          expect(keyIsUnder(base + suffix, base)).to.equal(false);
          // Nor is the parent under its child.
          expect(keyIsUnder(cleanKey(`${base}/..`), base)).to.equal(cleanKey(`${base}/..`) === base);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('stripPrefix undoes joinKey and always yields a clean key', () => {
    fc.assert(
      fc.property(clean, noDotDot, anyText, (prefix, x, other) => {
        const rel = cleanKey(x);
        expect(stripPrefix(joinKey(prefix, rel), prefix)).to.equal(rel);
        expect(isClean(stripPrefix(other, prefix))).to.equal(true);
        expect(stripPrefix(other, '/')).to.equal(cleanKey(other));
      }),
      { numRuns: 1000 },
    );
  });

  it('stripPrefix leaves keys outside the prefix whole (cleaned)', () => {
    fc.assert(
      fc.property(clean, clean, (prefix, key) => {
        fc.pre(!keyIsUnder(key, prefix));
        expect(stripPrefix(key, prefix)).to.equal(key);
      }),
    );
  });
});
