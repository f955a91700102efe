import { expect } from 'chai';
import fc from 'fast-check';
import { KeyIndex, pairsUnder } from '../../src/key-index.js';
import { joinKey, keyIsUnder, stripPrefix } from '../../src/key-path.js';
import { SortedPairs } from '../../src/kv-pairs.js';
import { KVStore } from '../../src/template/kv-store.js';

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

  it("visiblePairs gives a template the store that stripPrefix's pairs make, by every method", () => {
    // U+FF21 sorts after a surrogate in JavaScript's order and before it in Go's. Two thirds of the
    // snapshots hold only keys that cleaning keeps, with or without characters above U+FFFF (arrays past
    // visiblePairs' few keys, or not); the others also hold keys that cleaning changes ('', '.', '..'
    // segments) or that are not paths at all.
    const plain = ['a', 'b', 'ab', 'a-b', 'a0', '\uff21'];
    const path = (part: fc.Arbitrary<string>): fc.Arbitrary<string> =>
      fc.array(part, { maxLength: 3 }).map((parts) => `/${parts.join('/')}`);
    const kept = fc.constantFrom(...plain, '🚀');
    const stored = path(fc.oneof({ weight: 9, arbitrary: kept }, fc.constantFrom('', '.', '..')));
    const held = fc
      .constantFrom('plain', 'astral', 'any')
      .chain((kind) =>
        kind === 'any'
          ? fc.uniqueArray(fc.oneof({ weight: 9, arbitrary: stored }, fc.string({ maxLength: 3 })), {
              maxLength: 90,
            })
          : fc.uniqueArray(path(kind === 'plain' ? fc.constantFrom(...plain) : kept), {
              minLength: 40,
              maxLength: 90,
            }),
      )
      .map((keys) => new Map([...keys].sort().map((k, i) => [k, `v${i % 7}`])));
    // The prefix is often a key itself (which the template sees as '/').
    const withPrefix = held.chain((pairs) =>
      fc.tuple(fc.constant(pairs), fc.oneof(fc.constant('/'), stored, fc.constantFrom('/', ...pairs.keys()))),
    );
    // A resource's keys are joined to its prefix; now and then something else.
    const resourceKeys = fc.array(fc.oneof(stored, fc.constant('/'), base), { maxLength: 4 });
    const patterns = ['/*', '/*/*', '/*/*/*', '/*/*/*/*', '/*/*/*/*/*', '/a/*', '/a*', '/\uff21/*', '/🚀/*'];
    let sorted = 0;
    fc.assert(
      fc.property(withPrefix, resourceKeys, fc.boolean(), ([pairs, p], ks, joined) => {
        const bases = joined ? ks.map((k) => joinKey(p, k)) : ks;
        const expected = new Map<string, string>();
        for (const b of bases)
          for (const k of byRule(pairs, [b]).sort()) expected.set(stripPrefix(k, p), pairs.get(k)!);
        const visible = new KeyIndex(pairs).visiblePairs(p, bases);
        if (visible instanceof SortedPairs) sorted += 1;
        const [got, want] = [new KVStore(visible), new KVStore(expected)];
        for (const pattern of patterns) expect(got.gets(pattern)).to.deep.equal(want.gets(pattern));
        for (const dir of ['/', '/a', '/a/', '/\uff21']) {
          expect(got.ls(dir)).to.deep.equal(want.ls(dir));
          expect(got.lsdir(dir)).to.deep.equal(want.lsdir(dir));
        }
        for (const [k, value] of expected) {
          expect(got.exists(k)).to.equal(true);
          expect(got.getv(k)).to.equal(value);
          expect(got.keysHolding(value)).to.deep.equal(want.keysHolding(value));
        }
        expect(got.exists('/absent')).to.equal(want.exists('/absent'));
      }),
      { numRuns: 3000 },
    );
    // The property says nothing of the two arrays unless they were made often.
    expect(sorted).to.be.greaterThan(100);
  });
});
