import { expect } from 'chai';
import fc from 'fast-check';
import { compareGoStrings, sortGoStrings } from '../../../src/template/go-strings.js';

/** Go orders strings by their UTF-8 bytes (well-formed strings: a lone surrogate has no UTF-8 form). */
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('Go string order (compareGoStrings, sortGoStrings)', () => {
  const strings = fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme-ascii' })), {
    maxLength: 40,
  });

  it('compares as the UTF-8 bytes do', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareGoStrings(a, b))).to.equal(Math.sign(byUtf8(a, b)));
      }),
    );
  });

  it('sorts into the UTF-8 byte order, with or without surrogates among the strings', () => {
    fc.assert(
      fc.property(strings, (xs) => {
        expect(sortGoStrings([...xs])).to.deep.equal([...xs].sort(byUtf8));
      }),
    );
    expect(sortGoStrings(['/k/😀', '/k/～', '/k/B'])).to.deep.equal(['/k/B', '/k/～', '/k/😀']);
  });
});
