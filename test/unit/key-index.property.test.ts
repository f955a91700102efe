import { expect } from 'chai';
import fc from 'fast-check';
import { KeyIndex, pairsUnder } from '../../src/key-index.js';
import { keyIsUnder } from '../../src/key-path.js';

/** Keys made of few distinct segments, so that bases and keys often share prefixes (and trailing slashes). */
const key = fc
  .array(fc.constantFrom('', 'a', 'b', 'ab', 'a-b', 'é', '🚀', '.', 'a/'), { maxLength: 5 })
  .map((parts) => `/${parts.join('/')}`);
const base = fc.oneof(key, fc.constant('/'), fc.constant(''), fc.string({ maxLength: 4 }));
/** As a store reads them: in no particular order, or (as etcd and Consul answer) sorted. */
const pairs = fc
  .tuple(fc.uniqueArray(fc.oneof(key, fc.string({ maxLength: 4 })), { maxLength: 30 }), fc.boolean())
  .map(([keys, sorted]) => new Map((sorted ? [...keys].sort() : keys).map((k) => [k, `v${k}`])));

const byRule = (held: ReadonlyMap<string, string>, bases: readonly string[]): string[] =>
  [...held.keys()].filter((k) => bases.some((b) => keyIsUnder(k, b)));

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
        expect([...kept.keys()]).to.deep.equal(byRule(held, bases));
        for (const [k, value] of kept) expect(value).to.equal(held.get(k));
      }),
      { numRuns: 2000 },
    );
  });
});
