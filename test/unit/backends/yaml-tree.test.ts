import { expect } from 'chai';
import { YamlError, parseYamlTree } from '../../../src/backends/yaml-tree.js';

const tree = (text: string): unknown => parseYamlTree(text).tree;

function failure(text: string): YamlError {
  try {
    parseYamlTree(text);
  } catch (err) {
    if (err instanceof YamlError) return err;
    throw err;
  }
  throw new Error('expected a YamlError');
}

describe('YAML tree (js-yaml events, built as yaml.v2 decodes into interface{})', () => {
  it('builds Maps in file order, arrays and scalars; a repeated key keeps its place and takes the later value', () => {
    expect(tree('b: 1\na:\n  - x\n  - {c: yes}\nb: 2\n')).to.deep.equal(
      new Map<string, unknown>([
        ['b', 2n],
        ['a', ['x', new Map([['c', true]])]],
      ]),
    );
  });

  it('keeps keys as written: plain keys are never booleans or numbers, quoted keys are decoded', () => {
    const map = tree('on: 1\ny: 2\n1: 3\n0x1F: 4\n~: 5\n"a\\tb": 6\n!!int 7: 8\n: 9\n') as Map<
      string,
      unknown
    >;
    expect([...map.keys()]).to.deep.equal(['on', 'y', '1', '0x1F', '~', 'a\tb', '7', '']);
  });

  it('follows anchors and aliases, values and keys', () => {
    expect(tree('a: &v 80\nb: *v\n&k on: x\n*k : z\n')).to.deep.equal(
      new Map<string, unknown>([
        ['a', 80n],
        ['b', 80n],
        ['on', 'z'],
      ]),
    );
  });

  it('merges `<<` as yaml.v2 does: over the keys before it, under the keys after it, earlier maps first', () => {
    const text = [
      'one: &one {a: 1, b: 1}',
      'two: &two {b: 2, c: 2}',
      'site:',
      '  a: before',
      '  <<: [*one, *two]',
      '  c: after',
      'inline:',
      '  <<: {z: 1}',
      'tagged:',
      '  !!merge <<: *two',
      'quoted:',
      '  "<<": *two',
    ].join('\n');
    const map = tree(text) as Map<string, Map<string, unknown>>;
    expect(map.get('site')).to.deep.equal(
      new Map<string, unknown>([
        ['a', 1n],
        ['b', 1n],
        ['c', 'after'],
      ]),
    );
    expect(map.get('inline')).to.deep.equal(new Map([['z', 1n]]));
    expect(map.get('tagged')).to.deep.equal(
      new Map<string, unknown>([
        ['b', 2n],
        ['c', 2n],
      ]),
    );
    // A quoted "<<" is an ordinary key.
    expect([...(map.get('quoted')?.keys() ?? [])]).to.deep.equal(['<<']);
  });

  it('resolves tags through the %TAG handles of the document; collection tags change nothing', () => {
    const text =
      '%TAG !y! tag:yaml.org,2002:\n---\na: !y!int "12"\nb: !<tag:yaml.org,2002:str> 12\nc: !!set {x}\nd: !!omap [{e: 1}]\n';
    expect(tree(text)).to.deep.equal(
      new Map<string, unknown>([
        ['a', 12n],
        ['b', '12'],
        ['c', new Map([['x', null]])],
        ['d', [new Map([['e', 1n]])]],
      ]),
    );
  });

  it('counts documents and builds only the first; an empty file or document is null', () => {
    expect(parseYamlTree('a: 1\n---\nb: 2\n')).to.deep.equal({ tree: new Map([['a', 1n]]), documents: 2 });
    expect(parseYamlTree('')).to.deep.equal({ tree: null, documents: 0 });
    expect(parseYamlTree('# only a comment\n').tree).to.equal(null);
    expect(parseYamlTree('---\n...\n').tree).to.equal(null);
  });

  it('fails with the line and column of a syntax error, and never quotes the text', () => {
    const err = failure('ok: 1\nlist:\n  - a\n  b: [s3cret\n');
    expect([err.line, err.column]).to.deep.equal([4, 3]);
    expect(err.message).not.to.contain('s3cret');
  });

  it('fails what yaml.v2 refuses, with its place: a tag that does not fit, a bad merge, a collection as key, an unknown alias', () => {
    const cases: Array<[string, RegExp, number]> = [
      ['a: 1\nb: !!int s3cret\n', /cannot decode a !!str value as a !!int/, 2],
      ['a: 1\nb:\n  <<: s3cret\n', /map merge requires map or sequence of maps/, 3],
      ['a: 1\n? [s3cret, b]\n: c\n', /a mapping key must be a scalar/, 2],
      ['a: 1\nb: *nowhere\n', /unknown anchor 'nowhere'/, 2],
    ];
    for (const [text, message, line] of cases) {
      const err = failure(text);
      expect(err.message, text).to.match(message).and.not.to.contain('s3cret');
      expect(err.line, text).to.equal(line);
    }
  });

  it('refuses a document whose aliases expand it beyond bounds (a "billion laughs" file)', () => {
    const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    expect(failure(levels.join('\n')).message).to.match(/excessive aliasing/);
  });

  it('reads a file that shares one large anchor many times over (as yaml.v2 does)', () => {
    const base = Array.from({ length: 2000 }, (_, i) => `  k${i}: v${i}`).join('\n');
    const uses = Array.from({ length: 100 }, (_, i) => `site${i}:\n  <<: *base\n  own: ${i}`).join('\n');
    const map = tree(`base: &base\n${base}\n${uses}\n`) as Map<string, Map<string, unknown>>;
    expect(map.size).to.equal(101);
    expect(map.get('site99')?.get('k1999')).to.equal('v1999');
  });
});
