import { expect } from 'chai';
import { BadPatternError, pathMatch } from '../../../src/template/path-match.js';

describe('pathMatch (Go path.Match)', () => {
  // Go's own table from src/path/match_test.go.
  const cases: [pattern: string, name: string, expected: boolean | 'bad'][] = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['a[^a][^a][^a]b', 'a☺b', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[\\-x]', 'x', true],
    ['[\\-x]', '-', true],
    ['[\\-x]', 'a', false],
    ['[]a]', ']', 'bad'],
    ['[-]', '-', 'bad'],
    ['[x-]', 'x', 'bad'],
    ['[x-]', '-', 'bad'],
    ['[x-]', 'z', 'bad'],
    ['[-x]', 'x', 'bad'],
    ['[-x]', '-', 'bad'],
    ['[-x]', 'a', 'bad'],
    ['\\', 'a', 'bad'],
    ['[a-b-c]', 'a', 'bad'],
    ['[', 'a', 'bad'],
    ['[^', 'a', 'bad'],
    ['[^bc', 'a', 'bad'],
    ['a[', 'a', 'bad'],
    ['a[', 'ab', 'bad'],
    ['a[', 'x', 'bad'],
    ['a/b[', 'x', 'bad'],
    ['*x', 'xxx', true],
  ];

  for (const [pattern, name, expected] of cases) {
    it(`${JSON.stringify(pattern)} vs ${JSON.stringify(name)} -> ${expected}`, () => {
      if (expected === 'bad') expect(() => pathMatch(pattern, name)).to.throw(BadPatternError);
      else expect(pathMatch(pattern, name)).to.equal(expected);
    });
  }

  it('keeps * inside one key segment, as gets "/upstream/*" relies on', () => {
    expect(pathMatch('/upstream/*', '/upstream/a')).to.equal(true);
    expect(pathMatch('/upstream/*', '/upstream/a/b')).to.equal(false);
    expect(pathMatch('/upstream/*', '/upstream')).to.equal(false);
    expect(pathMatch('/*/port', '/app/port')).to.equal(true);
    expect(pathMatch('/*/port', '/app/x/port')).to.equal(false);
  });

  it('lets a negated class match "/" (only * and ? stop at slashes)', () => {
    expect(pathMatch('/a[^x]b', '/a/b')).to.equal(true);
  });

  it('names the whole pattern in the error', () => {
    expect(() => pathMatch('/app/[', '/app/x')).to.throw('syntax error in pattern: /app/[');
  });
});
