import { expect } from 'chai';
import { KVStore } from '../../../src/template/kv-store.js';
import { describeValue } from '../../../src/template/value-description.js';
import { render, renderError, type Pairs } from './render.js';

/** A value that must never show up in an error, whole or in part. */
const SECRET = 's3cr3t-Pa55w0rd';

/** Each helper that can refuse a value, with a template feeding it the value of /app/secret. */
const REFUSALS: readonly { helper: string; source: string; says: string }[] = [
  {
    helper: 'atoi',
    source: '{{atoi (getv "/app/secret")}}',
    says: 'strconv.Atoi: parsing the value of /app/secret: invalid syntax',
  },
  {
    helper: 'parseBool',
    source: '{{parseBool (getv "/app/secret")}}',
    says: 'strconv.ParseBool: parsing the value of /app/secret: invalid syntax',
  },
  {
    helper: 'json',
    source: '{{json (getv "/app/secret")}}',
    says: 'invalid JSON in the value of /app/secret: invalid character looking for beginning of value',
  },
  {
    helper: 'jsonArray',
    source: '{{jsonArray (getv "/app/secret")}}',
    says: 'invalid JSON in the value of /app/secret: invalid character looking for beginning of value',
  },
  {
    helper: 'base64Decode',
    source: '{{base64Decode (getv "/app/secret")}}',
    says: 'in the value of /app/secret',
  },
  {
    helper: 'datetime',
    source: '{{datetime "2006" (getv "/app/secret")}}',
    says: 'unknown time zone: the value of /app/secret',
  },
];

function expectNoValue(message: string, value: string): void {
  expect(message).not.to.include(value);
  // Nor a telling piece of it (V8's JSON errors quote the first characters, Go's the offending one).
  for (let i = 0; i + 4 <= value.length; i++) expect(message).not.to.include(value.slice(i, i + 4));
}

describe('errors about store values never show the value', () => {
  for (const { helper, source, says } of REFUSALS) {
    it(`${helper} names the key holding the value, not the value`, async () => {
      const err = await renderError(`line one\n${source}\n`, { '/app/secret': SECRET });
      expect(err.message).to.include(says);
      expect(err.message).to.include(`error calling ${helper}`);
      expect(err.line).to.equal(2);
      expect(err.key).to.equal('/app/secret');
      expectNoValue(err.message, SECRET);
    });
  }

  it('atoi out of range names the key as well', async () => {
    const err = await renderError('{{atoi (getv "/n")}}', { '/n': '99999999999999999999' });
    expect(err.message).to.include('strconv.Atoi: parsing the value of /n: value out of range');
    expect(err.message).not.to.include('99999');
  });

  it('json errors keep Go’s words for what broke, without the character Go quotes', async () => {
    for (const [text, where] of [
      ['{"pw": ', 'unexpected end of JSON input'],
      ['{"pw": "hunter2', 'unexpected end of JSON input'],
      ['{"pw": "hunter2"', 'unexpected end of JSON input'],
      ['{"pw" "hunter2"}', 'invalid character after object key'],
      ['["hunter2"]hunter2', 'invalid character after top-level value'],
      ['hunter2', 'invalid character looking for beginning of value'],
      ['["hunter2",]', 'invalid character looking for beginning of value'],
    ] as const) {
      const err = await renderError('{{json (getv "/j")}}', { '/j': text });
      expect(err.message, text).to.include(`invalid JSON in the value of /j: ${where}`);
      expect(err.message, text).not.to.include('hunter');
    }
  });

  it('names every key holding the value, and counts past three', async () => {
    const shared: Pairs = { '/b': SECRET, '/a': SECRET };
    let err = await renderError('{{atoi (getv "/a")}}', shared);
    expect(err.message).to.include('parsing the value of /a and /b:');
    // Ambiguous: no single key for the error's key field.
    expect(err.key).to.equal(undefined);
    err = await renderError('{{atoi (getv "/a")}}', {
      ...shared,
      '/c': SECRET,
      '/d': SECRET,
      '/e': SECRET,
      '/f': 'x',
    });
    expect(err.message).to.include('parsing the value of /a, /b, /c and 2 other keys:');
    expectNoValue(err.message, SECRET);
  });

  it('describes a computed or literal value by its length only', async () => {
    let err = await renderError('{{atoi (printf "%s-%s" (getv "/app/secret") "x")}}', {
      '/app/secret': SECRET,
    });
    expect(err.message).to.include(
      `strconv.Atoi: parsing a ${SECRET.length + 2}-byte string: invalid syntax`,
    );
    expectNoValue(err.message, SECRET);
    err = await renderError('{{parseBool "päss"}}');
    expect(err.message).to.include('parsing a 5-byte string');
    err = await renderError('{{atoi ""}}');
    expect(err.message).to.include('parsing an empty string');
  });

  it('base64Decode refuses bytes that are not UTF-8 text, naming the key, instead of writing U+FFFD', async () => {
    const binary = Buffer.from([0x30, 0x82, 0xff, 0xfe, 0x00, 0xc3]).toString('base64');
    const err = await renderError('{{base64Decode (getv "/tls/keystore")}}', { '/tls/keystore': binary });
    expect(err.message).to.include('base64 data in the value of /tls/keystore does not decode to UTF-8 text');
    expect(err.key).to.equal('/tls/keystore');
    expectNoValue(err.message, binary);
    // A byte-order mark is text, and stays.
    const bom = Buffer.from('\ufeffhi', 'utf8').toString('base64');
    expect(await render('{{base64Decode (getv "/b")}}', { '/b': bom })).to.equal('\ufeffhi');
  });

  it('keeps naming the key of a missing key', async () => {
    const err = await renderError('{{getv "/app/missing"}}');
    expect(err.message).to.include('key does not exist: /app/missing');
    expect(err.key).to.equal('/app/missing');
  });

  it('describeValue picks keys in Go order and lengths in UTF-8 bytes', () => {
    const store = new KVStore({ '/z': 'v', '/é': 'v', '/a': 'v', '/other': 'w' });
    expect(describeValue(store, 'v')).to.deep.equal({
      text: 'the value of /a, /z and /é',
      keys: ['/a', '/z', '/é'],
    });
    expect(describeValue(store, '✓').text).to.equal('a 3-byte string');
  });
});
