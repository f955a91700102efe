import { expect } from 'chai';
import fc from 'fast-check';
import type { KVPairs } from '../../../src/backends/store-client.js';
import { parseDataFile } from '../../../src/backends/file-data.js';
import { flattenTree } from '../../../src/backends/flatten.js';
import { parseJsonData } from '../../../src/backends/json-data.js';
import { recordingLogger } from '../../support/loggers.js';

/** The pairs, in the order they were written: the fast path must match the YAML reading in both. */
function flatten(tree: unknown): [string, string][] {
  const out: KVPairs = new Map();
  flattenTree(tree, out);
  return [...out];
}

function viaYaml(text: string): [string, string][] {
  return flatten(parseDataFile(text, 'data.json', recordingLogger()));
}

/** Hand-written JSON texts, so duplicate keys, spacing and number spellings JSON.stringify never makes occur. */
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.constantFrom(
    '0',
    '-0',
    '1.0',
    '1e3',
    '1E-2',
    '2.5e+10',
    '12345678901234567890',
    '9007199254740993',
    '0.1',
  ),
);
const stringText = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.constantFrom('0', '1', '00', 'yes', 'on', '~', 'a\u0085b', 'a\u2028b', '\ufeff', 'é/x', '__proto__'),
  )
  .map((s) => JSON.stringify(s));
const space = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');
const jsonText = fc.letrec<{ value: string; object: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    numberText,
    stringText,
    fc.constantFrom('true', 'false', 'null'),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
    tie('object'),
  ),
  object: fc
    .array(fc.tuple(fc.oneof(stringText, fc.constantFrom('"a"', '"a"', '"0"')), space, tie('value')), {
      maxLength: 4,
    })
    .map((pairs) => `{${pairs.map(([k, s, v]) => `${s}${k}${s}:${s}${v}`).join(',')}}`),
}));

describe('JSON data fast path', () => {
  it('flattens every JSON object it takes exactly as the YAML reading does', () => {
    let taken = 0;
    fc.assert(
      fc.property(jsonText.object, fc.constantFrom('', '\n', '\r\n'), space, (text, lead, pad) => {
        // Not indented: a flow mapping that starts indented must keep its lines indented as far in YAML
        // (js-yaml holds it to that; JSON has no such rule, and such a file takes the fast path anyway).
        const doc = `${lead}${text}${pad}`;
        const fast = parseJsonData(doc);
        if (fast !== undefined) {
          taken += 1;
          expect(flatten(fast)).to.deep.equal(viaYaml(doc));
        }
      }),
      { numRuns: 3000 },
    );
    // The property says nothing if the fast path never applies.
    expect(taken).to.be.greaterThan(300);
  });

  it('reads negative zero as Go yaml.v2 does: `-0` is the integer 0, `-0.0` the float -0', () => {
    expect(viaYaml('{"a": -0, "b": -0.0, "c": 0.0}')).to.deep.equal([
      ['/a', '0'],
      ['/b', '-0'],
      ['/c', '0'],
    ]);
  });

  it('takes the plain JSON a data file usually holds', () => {
    const doc =
      '{\n  "app": {"port": 8080, "ratio": 0.5, "on": true, "none": null, "hosts": ["a", "b"]}\n}\n';
    const fast = parseJsonData(doc);
    expect(fast).to.not.equal(undefined);
    expect(flatten(fast)).to.deep.equal(viaYaml(doc));
  });

  it('leaves YAML, exponents, big integers, negative zero, index-like keys and YAML line breaks to the YAML reading', () => {
    for (const doc of [
      'a: 1\n',
      '{"a": 1e3}',
      '{"a": 12345678901234567890}',
      '{"b": 1, "0": 2}',
      '{"a": -0}',
      '{"a": "x\u0085y"}',
      '[1, 2]',
      '{"a": 1',
    ])
      expect(parseJsonData(doc), doc).to.equal(undefined);
  });
});
