import { expect } from 'chai';
import fc from 'fast-check';
import { KeyIndex, pairsUnder } from '../../src/key-index.js';
import { keyIsUnder } from '../../src/key-path.js';

/** Keys made of few distinct segments, so that bases and keys often share prefixes (and trailing slashes). */
const key = fc
  .array(fc.constantFrom('', 'a', 'b', 'ab', 'a-b', 'é', '🚀', '.', 'a/'), { maxLength: 5 })
  .map((parts) => `/${parts.join('/')}`);
const base = fc.oneof(key, fc.constant('/'), fc.constant(''), fc.string({ maxLength: 4 }));
const pairs = fc.uniqueArray(fc.oneof(key, fc.string({ maxLength: 4 })), { maxLength: 30 }).map((keys) => {
  const held: Record<string, string> = {};
  for (const k of keys) held[k] = `v${k}`;
  return held;
});

const byRule = (held: Record<string, string>, bases: readonly string[]): string[] =>
  Object.keys(held).filter((k) => bases.some((b) => keyIsUnder(k, b)));

describe('key index (properties)', () => {
  it('keysUnder finds exactly the keys keyIsUnder accepts, sorted', () => {
    fc.assert(
      fc.property(pairs, base, (held, b) => {
        expect(new KeyIndex(held).keysUnder(b)).to.deep.equal(byRule(held, [b]).sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('hasAnyUnder says whether keysUnder finds anything', () => {
    fc.assert(
      fc.property(pairs, base, (held, b) => {
        expect(new KeyIndex(held).hasAnyUnder(b)).to.equal(byRule(held, [b]).length > 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('pairsUnder keeps exactly the pairs keyIsUnder accepts for some base, in their order', () => {
    fc.assert(
      // Up to 8 bases: both the few-bases loop and the coveringBase walk.
      fc.property(pairs, fc.array(base, { maxLength: 8 }), (held, bases) => {
        const kept = pairsUnder(held, bases);
        expect(Object.keys(kept)).to.deep.equal(byRule(held, bases));
        for (const k of Object.keys(kept)) expect(kept[k]).to.equal(held[k]);
      }),
      { numRuns: 2000 },
    );
  });
});
