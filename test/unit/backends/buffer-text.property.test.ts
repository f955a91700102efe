import { expect } from 'chai';
import fc from 'fast-check';
import { base64Text, utf8Text } from '../../../src/backends/buffer-text.js';

/** Base64 as stores send it, and what a broken or odd one might: padding inside, whitespace, other letters. */
const base64ish = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
  fc.string({ unit: fc.constantFrom(...'AQZaz09+/=_- \n\t.!é'), maxLength: 80 }),
);

describe('buffer text (properties)', () => {
  it('base64Text decodes exactly as Buffer.from(text, "base64").toString() does', () => {
    fc.assert(
      fc.property(base64ish, (text) => {
        expect(base64Text(text)).to.equal(Buffer.from(text, 'base64').toString());
      }),
      { numRuns: 2000 },
    );
  });

  it('base64Text decodes values larger than its scratch buffer, and one after another', () => {
    const large = Buffer.alloc(200_000, 'é').toString('base64');
    expect(base64Text(large)).to.equal(Buffer.from(large, 'base64').toString());
    const a = Buffer.from('a longer value first').toString('base64');
    const b = Buffer.from('then short').toString('base64');
    expect([base64Text(a), base64Text(b)]).to.deep.equal(['a longer value first', 'then short']);
  });

  it('utf8Text reads a range as toString("utf8", start, end) does, invalid bytes included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const buffer = Buffer.from(bytes);
        const start = a % (buffer.length + 1);
        const end = start + (b % (buffer.length - start + 1));
        expect(utf8Text(buffer, start, end)).to.equal(buffer.toString('utf8', start, end));
      }),
      { numRuns: 2000 },
    );
  });
});
