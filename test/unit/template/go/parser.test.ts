import { expect } from 'chai';
import { lex } from '../../../../src/template/go/lex.js';
import { itemString, T } from '../../../../src/template/go/lexer.js';
import { errorContext, nodeString } from '../../../../src/template/go/nodes.js';
import { ParseError, parseTemplates } from '../../../../src/template/go/parser.js';
import type { Tree } from '../../../../src/template/go/parser.js';

/**
 * The Go engine's lexer and parser on their own. The texts below are Go 1.19's own (the differential
 * tests compare many more against Go itself); here they pin the behaviour without needing a toolchain.
 */
const FUNCS = new Set(['printf', 'len', 'getv', 'gets', 'eq']);
const has = (name: string): boolean => FUNCS.has(name);

function parse(text: string): Map<string, Tree> {
  return parseTemplates('test.tmpl', text, has);
}

function parseError(text: string): string {
  try {
    parse(text);
  } catch (err) {
    expect(err).to.be.instanceOf(ParseError);
    return (err as Error).message;
  }
  expect.fail(`expected ${JSON.stringify(text)} not to parse`);
}

describe('Go engine: lexer', () => {
  const kinds = (text: string): T[] => lex(text, { breakOK: true, continueOK: true }).map((i) => i.typ);

  it('splits text and actions, trimming around {{- and -}}', () => {
    const items = lex('a  {{- 1 -}}  b', { breakOK: true, continueOK: true });
    expect(items.map((i) => [i.typ, i.val])).to.deep.equal([
      [T.Text, 'a'],
      [T.LeftDelim, '{{'],
      [T.Number, '1'],
      [T.RightDelim, '}}'],
      [T.Text, 'b'],
      [T.EOF, ''],
    ]);
  });

  it('reads {{-3}} as a number, not a trim marker', () => {
    expect(kinds('{{-3}}')).to.deep.equal([T.LeftDelim, T.Number, T.RightDelim, T.EOF]);
  });

  it('drops comments, with their trim markers', () => {
    const items = lex('x {{- /* c */ -}} y', { breakOK: true, continueOK: true });
    expect(items.map((i) => i.val)).to.deep.equal(['x', 'y', '']);
  });

  it('knows keywords, fields, variables, chars, raw strings and the declaration operators', () => {
    expect(kinds("{{range $i, $v := .A.b}}{{'x'}}{{`r`}}{{nil}}{{end}}")).to.deep.equal([
      T.LeftDelim,
      T.Range,
      T.Space,
      T.Variable,
      T.Char,
      T.Space,
      T.Variable,
      T.Space,
      T.Declare,
      T.Space,
      T.Field,
      T.Field,
      T.RightDelim,
      T.LeftDelim,
      T.CharConstant,
      T.RightDelim,
      T.LeftDelim,
      T.RawString,
      T.RightDelim,
      T.LeftDelim,
      T.Nil,
      T.RightDelim,
      T.LeftDelim,
      T.End,
      T.RightDelim,
      T.EOF,
    ]);
  });

  it('treats break and continue as functions when a function has that name', () => {
    expect(kinds('{{break}}')[1]).to.equal(T.Break);
    expect(lex('{{break}}', { breakOK: false, continueOK: true })[1]?.typ).to.equal(T.Identifier);
  });

  it('prints tokens the way Go quotes them in errors', () => {
    const [delim, long] = lex('{{"a very long string"}}', { breakOK: true, continueOK: true });
    expect(itemString(delim!)).to.equal('"{{"');
    expect(itemString(long!)).to.equal('"\\"a very lo"...');
  });
});

describe('Go engine: parser', () => {
  it('parses the file and each define into named trees', () => {
    const trees = parse('{{define "a"}}A{{end}}main{{block "b" .}}B{{end}}');
    expect([...trees.keys()].sort()).to.deep.equal(['a', 'b', 'test.tmpl']);
    expect(nodeString(trees.get('test.tmpl')!.root)).to.equal('main{{template "b" .}}');
  });

  it('prints nodes back as Go does, for error contexts', () => {
    const root = parse('{{if $x := getv "/a" | printf "%s"}}{{(len .a).b}}{{else}}{{$x.y}}{{end}}').get(
      'test.tmpl',
    )!.root;
    expect(nodeString(root)).to.equal(
      '{{if $x := getv "/a" | printf "%s"}}{{(len .a).b}}{{else}}{{$x.y}}{{end}}',
    );
  });

  it('locates nodes with Go byte columns (after multi-byte text too)', () => {
    const root = parse('é\n  ü {{.x}}').get('test.tmpl')!.root;
    const action = root.nodes[1]!;
    expect(errorContext(action)).to.deep.equal({ location: 'test.tmpl:2:7', context: '{{.x}}' });
  });

  const errors: [string, string][] = [
    ['{{/* unclosed', 'template: test.tmpl:1: unclosed comment'],
    ['{{if 1}}x', 'template: test.tmpl:1: unexpected EOF'],
    ['a{{"unterminated}}', 'template: test.tmpl:1: unterminated quoted string'],
    ['{{undefinedfn 1}}', 'template: test.tmpl:1: function "undefinedfn" not defined'],
    ['{{$x}}', 'template: test.tmpl:1: undefined variable "$x"'],
    ['{{range $i, $v, $w := .}}{{end}}', 'template: test.tmpl:1: too many declarations in range'],
    ['{{break}}', 'template: test.tmpl:1: {{break}} outside {{range}}'],
    [
      '{{define "a"}}x{{end}}{{define "a"}}y{{end}}',
      'template: test.tmpl:1: template: multiple definition of template "a"',
    ],
    ['{{ 08 }}', 'template: test.tmpl:1: integer overflow: "08"'],
    ["{{'ab'}}", "template: test.tmpl:1: malformed character constant: 'ab'"],
    ['{{.a.b.}}', 'template: test.tmpl:1: unexpected <.> in operand'],
    ['{{€}}', "template: test.tmpl:1: unrecognized character in action: U+20AC '€'"],
    ['{{if 1}}\n{{x', 'template: test.tmpl:2: function "x" not defined'],
  ];
  for (const [text, message] of errors) {
    it(`rejects ${JSON.stringify(text)} as Go does`, () => {
      expect(parseError(text)).to.equal(message);
    });
  }
});
