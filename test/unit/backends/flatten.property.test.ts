import { expect } from 'chai';
import fc from 'fast-check';
import type { KVPairs } from '../../../src/backends/store-client.js';
import { flattenTree, goFloatText, scalarText } from '../../../src/backends/flatten.js';

/** Scalars a YAML/JSON parse can hand the file backend (yaml's toJS with intAsBigInt). */
const scalar = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.double(),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 8 }),
  fc.constant(new Set(['a'])),
);

/** A map key as a path segment: anything, including "", "/" and unicode. */
const anyKey = fc.string({ unit: 'binary', maxLength: 6 });
/** A segment that cannot collide with another path: non-empty, no '/'. */
const plainKey = fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }).filter((k) => !k.includes('/'));

function tree(key: fc.Arbitrary<string>) {
  return fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(tie('node'), { maxLength: 4 }),
      fc
        .uniqueArray(fc.tuple(key, tie('node')), { maxLength: 4, selector: ([k]) => k })
        .map((entries) => new Map(entries)),
      fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    ),
  })).node;
}

/** The reference: every leaf with the path segments that lead to it, walked independently of flatten.ts. */
function leaves(node: unknown, path: string[] = []): [string[], unknown][] {
  if (node instanceof Map) return [...node].flatMap(([k, v]) => leaves(v, [...path, String(k)]));
  if (Array.isArray(node)) return node.flatMap((v, i) => leaves(v, [...path, String(i)]));
  if (typeof node === 'object' && node !== null && !(node instanceof Uint8Array))
    return Object.entries(node).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [[path, node]];
}

const keyOf = (path: string[]): string => (path.length === 0 ? '/' : `/${path.join('/')}`);

describe('flattenTree (properties)', () => {
  it('never throws, and yields only absolute keys with string values', () => {
    fc.assert(
      fc.property(tree(anyKey), (node) => {
        const out: KVPairs = new Map();
        flattenTree(node, out);
        for (const [key, value] of out) {
          expect(key.startsWith('/'), key).to.equal(true);
          expect(value).to.be.a('string');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('yields one key per non-null leaf, its path joined by "/", valued as scalarText says', () => {
    fc.assert(
      fc.property(tree(plainKey), (node) => {
        const out: KVPairs = new Map();
        flattenTree(node, out);
        const expected: KVPairs = new Map();
        for (const [path, leaf] of leaves(node)) {
          const text = scalarText(leaf);
          if (text !== undefined) expected.set(keyOf(path), text);
        }
        expect(out).to.deep.equal(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('lets a later tree override an earlier one key by key (several data files)', () => {
    fc.assert(
      fc.property(tree(plainKey), tree(plainKey), (first, second) => {
        const together: KVPairs = new Map();
        flattenTree(first, together);
        flattenTree(second, together);
        const a: KVPairs = new Map();
        const b: KVPairs = new Map();
        flattenTree(first, a);
        flattenTree(second, b);
        expect(together).to.deep.equal(new Map([...a, ...b]));
      }),
    );
  });

  it('drops nulls but keeps empty strings, so getv on a null key fails like a missing key', () => {
    const out: KVPairs = new Map();
    flattenTree(
      new Map<string, unknown>([
        ['a', null],
        ['b', ''],
        ['c', new Map([['d', null]])],
      ]),
      out,
    );
    expect(Object.fromEntries(out)).to.deep.equal({ '/b': '' });
  });

  describe('goFloatText: strconv.FormatFloat(v, "f", -1, 64)', () => {
    it('round-trips every finite double, never with an exponent, with the shortest digits', () => {
      fc.assert(
        fc.property(
          fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => !Object.is(v, -0)),
          (v) => {
            const text = goFloatText(v);
            expect(text).to.match(/^-?\d+(\.\d+)?$/);
            expect(Number(text)).to.equal(v);
            // Shortest: the significant digits are those of JavaScript's shortest round-trip form.
            const significant = (s: string) =>
              s.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
            const mantissa = v.toExponential().split('e')[0] as string;
            expect(significant(text)).to.equal(significant(mantissa));
            expect(text.startsWith('-')).to.equal(v < 0);
          },
        ),
        { numRuns: 2000 },
      );
    });

    // Go's FormatFloat keeps the sign of negative zero (yaml.v2 reads `-0.0` as -0, confd prints "-0").
    it('prints negative zero as "-0", as Go does', () => {
      expect(goFloatText(-0)).to.equal('-0');
      expect(goFloatText(0)).to.equal('0');
    });

    it('names the non-finite values as Go does', () => {
      expect([NaN, Infinity, -Infinity].map(goFloatText)).to.deep.equal(['NaN', '+Inf', '-Inf']);
    });
  });
});
