import { expect } from 'chai';
import { ScalarTagError, decodeScalar, shortTag } from '../../../src/backends/yaml-v2-scalars.js';

/** A plain (unquoted, untagged) scalar as yaml.v2 decodes it into interface{}. */
const plain = (text: string): unknown => decodeScalar('', text, true);

describe('yaml.v2 scalars (resolve.go and decode.go, ported)', () => {
  it('reads YAML 1.1 booleans and nulls from its table only', () => {
    for (const t of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'])
      expect(plain(t), t).to.equal(true);
    for (const f of ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'])
      expect(plain(f), f).to.equal(false);
    for (const n of ['', '~', 'null', 'Null', 'NULL']) expect(plain(n), n).to.equal(null);
    // Not in the table: strings, however close.
    for (const s of ['tRue', 'oN', 'yES', 'nil', 'None']) expect(plain(s), s).to.equal(s);
  });

  it("reads integers as Go's ParseInt(s, 0, 64), then ParseUint, with every underscore dropped", () => {
    const cases: Record<string, bigint> = {
      '42': 42n,
      '-7': -7n,
      '+12': 12n,
      '0': 0n,
      '00': 0n,
      '0755': 493n,
      '0o17': 15n,
      '0x1F': 31n,
      '-0x1F': -31n,
      '0b101': 5n,
      '-0b101': -5n,
      '1_000': 1000n,
      '1__0': 10n,
      '1_': 1n,
      '0x_1F': 31n,
      '-0': 0n,
      '9223372036854775807': 9223372036854775807n,
      '-9223372036854775808': -9223372036854775808n,
      // Beyond int64, within uint64: ParseUint takes it.
      '12345678901234567890': 12345678901234567890n,
      '18446744073709551615': 18446744073709551615n,
    };
    for (const [text, value] of Object.entries(cases)) expect(plain(text), text).to.equal(value);
  });

  it('reads a float only where no integer parses and the text is a decimal float, finite', () => {
    const cases: Record<string, number> = {
      '1.50': 1.5,
      '1e3': 1000,
      '1E3': 1000,
      '1.5e-7': 1.5e-7,
      '.5': 0.5,
      '1.': 1,
      '-0.0': -0,
      // Not octal: 8 and 9 are no octal digits, so the float parse takes it.
      '09': 9,
      '685_230.15': 685230.15,
      '.5_0': 0.5,
      '.inf': Infinity,
      '-.Inf': -Infinity,
      '+.INF': Infinity,
      // Beyond int64 and uint64: a float, as ParseFloat reads it.
      '-9223372036854775809': -(2 ** 63),
      '18446744073709551616': 2 ** 64,
    };
    for (const [text, value] of Object.entries(cases))
      expect(Object.is(plain(text), value), text).to.equal(true);
    expect(Number.isNaN(plain('.NaN'))).to.equal(true);
  });

  it('keeps as strings what Go does not parse: base 60, timestamps, overflow, odd spellings', () => {
    for (const s of [
      '1:20',
      '190:20:30.15',
      '2001-12-14',
      '2001-12-14T21:59:43.10-05:00',
      '1e400',
      '0xFFFFFFFFFFFFFFFFFF',
      '0x',
      '0b',
      '0b102',
      '+',
      '-',
      '.',
      '._',
      '._5',
      '.Nan',
      '_1',
      '1.2.3',
      '=',
      '<<',
      'abc',
    ])
      expect(plain(s), s).to.equal(s);
  });

  it('leaves quoted and block scalars strings, unless tagged', () => {
    expect(decodeScalar('', '0755', false)).to.equal('0755');
    expect(decodeScalar('', 'yes', false)).to.equal('yes');
    expect(decodeScalar('!!int', '12', false)).to.equal(12n);
  });

  it('decodes explicit tags as yaml.v2 does, and fails a tag the text does not fit without naming the text', () => {
    expect(decodeScalar('!!str', '12', true)).to.equal('12');
    expect(decodeScalar('!!float', '1', true)).to.equal(1);
    expect(decodeScalar('!!bool', 'yes', true)).to.equal(true);
    expect(decodeScalar('!!null', '', false)).to.equal(null);
    expect(decodeScalar('!!timestamp', '2001-12-14', true)).to.equal('2001-12-14');
    expect(decodeScalar('!!binary', 'aGVs\nbG8=', false)).to.equal('hello');
    // Tags yaml.v2 cannot resolve decode to the text.
    expect(decodeScalar('!foo', 'bar', true)).to.equal('bar');
    expect(decodeScalar('!', '12', true)).to.equal('12');
    for (const [tag, text] of [
      ['!!int', 's3cret'],
      ['!!int', '1:20'],
      ['!!int', '1.5'],
      ['!!bool', '1'],
      ['!!null', 's3cret'],
      ['!!timestamp', 's3cret'],
      ['!!binary', 's3cret!'],
    ] as const) {
      let failure: unknown;
      try {
        decodeScalar(tag, text, true);
      } catch (err) {
        failure = err;
      }
      expect(failure, `${tag} ${text}`).to.be.instanceOf(ScalarTagError);
      expect((failure as Error).message).not.to.contain(text);
    }
  });

  it("names tags in yaml.v2's short form", () => {
    expect(shortTag('tag:yaml.org,2002:int')).to.equal('!!int');
    expect(shortTag('!local')).to.equal('!local');
    expect(shortTag('tag:example.com,2000:app')).to.equal('tag:example.com,2000:app');
  });
});
