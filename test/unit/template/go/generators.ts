/**
 * fast-check generators of Go templates, JSON data and key/value stores for the differential tests.
 * Templates are built from the grammar (text, actions, pipelines with | and parentheses, fields and
 * chains, variables in scope, if/else if/else, range with break/continue and else, with, define/template,
 * comments and trim markers) over literals, builtins and confd's functions with arguments of any type,
 * so mistakes (wrong types, missing keys, bad indexes) are generated as often as correct calls: Go's
 * errors are compared as closely as its output.
 *
 * Left out on purpose, because Go itself cannot be reproduced there: pointer addresses (%p, printing
 * SRV records), ints beyond 2^53 and `ls "/"` / `lsdir "/"` (see docs/templates.md).
 */
import fc from 'fast-check';
import type { OracleCase } from '../../../support/go-oracle.js';

const KEYS = ['a', 'b', 'c', 'A', 'é', 'k1'];
const TEXT = fc.constantFrom('', ' ', 'x', 'é', '\n', '  \n\t', 'a b', '{', '}', '日本', '%');

const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, 1, -1, 2.5, 1e6, 1e21, 0.1, 1e-7, 123456789, -0.5, 3),
    fc.constantFrom('', 'a', 'b', 'x y', 'é', '0', '10', 'true', '%d', '<&>', 'ab'),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const STORE_KEYS = ['/a', '/a/b', '/a/c', '/a/d/e', '/x/y', '/x/z', '/n/1', '/n/22', '/n/333'];
const STORE_VALUES = [
  '1',
  '42',
  '-3',
  'v',
  'ab',
  'é',
  '',
  'true',
  '{"p":8080,"h":"db"}',
  '[1,"a"]',
  'a,b,c',
  'x y',
];
const store = fc.dictionary(fc.constantFrom(...STORE_KEYS), fc.constantFrom(...STORE_VALUES), { maxKeys: 6 });

const STRINGS = [
  '""',
  '"a"',
  '"x y"',
  '"é"',
  '"a,b,c"',
  '","',
  '"/a"',
  '"/a/b"',
  '"/a/*"',
  '"/x/*"',
  '"/n/*"',
  '"/missing"',
  '"%d"',
  '"%s-%v"',
  '"%5.2f|%-4s|%x"',
  '"%q %T"',
  '"%v %d %s"',
  '"\\t\\n"',
  '`raw`',
  '"{\\"p\\":1}"',
  '"[1,2]"',
  '"true"',
  '"42"',
];
const NUMBERS = [
  '0',
  '1',
  '-1',
  '2',
  '3',
  '10',
  '1.5',
  '-2.5',
  '0x1F',
  '017',
  '1_000',
  "'a'",
  '1e3',
  '0.1',
  '255',
];

interface Scope {
  vars: string[];
  inRange: boolean;
  depth: number;
}

const FUNCS: Readonly<Record<string, number>> = {
  // builtins
  and: 2,
  or: 2,
  not: 1,
  len: 1,
  index: 2,
  slice: 2,
  eq: 2,
  ne: 2,
  lt: 2,
  le: 2,
  gt: 2,
  ge: 2,
  print: 2,
  printf: 2,
  println: 1,
  html: 1,
  js: 1,
  urlquery: 1,
  // confd
  getv: 1,
  gets: 1,
  getvs: 1,
  exists: 1,
  get: 1,
  ls: 1,
  lsdir: 1,
  split: 2,
  join: 2,
  toUpper: 1,
  toLower: 1,
  contains: 2,
  replace: 4,
  trimSuffix: 2,
  base: 1,
  dir: 1,
  json: 1,
  jsonArray: 1,
  map: 2,
  seq: 2,
  add: 2,
  sub: 2,
  mul: 2,
  div: 2,
  mod: 2,
  atoi: 1,
  parseBool: 1,
  reverse: 1,
  sortByLength: 1,
  sortKVByLength: 1,
  base64Encode: 1,
  base64Decode: 1,
};
const FUNC_NAMES = Object.keys(FUNCS);

function operand(scope: Scope): fc.Arbitrary<string> {
  const simple: fc.Arbitrary<string>[] = [
    fc.constantFrom(...STRINGS),
    fc.constantFrom(...NUMBERS),
    fc.constantFrom('.', 'true', 'false', 'nil', '$'),
    fc.constantFrom(...KEYS.filter((k) => /^\w+$/.test(k))).map((k) => `.${k}`),
    fc
      .tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('a', 'b', 'Key', 'Value', 'k1'))
      .map(([a, b]) => `.${a}.${b}`),
  ];
  if (scope.vars.length > 0) {
    simple.push(fc.constantFrom(...scope.vars));
    simple.push(
      fc
        .tuple(fc.constantFrom(...scope.vars), fc.constantFrom('a', 'Key', 'Value'))
        .map(([v, f]) => `${v}.${f}`),
    );
  }
  if (scope.depth >= 2) return fc.oneof(...simple);
  const inner = { ...scope, depth: scope.depth + 1 };
  return fc.oneof(
    { weight: 4, arbitrary: fc.oneof(...simple) },
    { weight: 2, arbitrary: call(inner).map((c) => `(${c})`) },
    { weight: 1, arbitrary: call(inner).map((c) => `(${c}).Key`) },
  );
}

function call(scope: Scope): fc.Arbitrary<string> {
  return fc.constantFrom(...FUNC_NAMES).chain((name) => {
    const arity = FUNCS[name] as number;
    // Mostly the right number of arguments, sometimes one more or one less.
    const count = fc.oneof(
      { weight: 6, arbitrary: fc.constant(arity) },
      fc.constantFrom(Math.max(0, arity - 1), arity + 1),
    );
    return count.chain((n) =>
      fc.array(operand(scope), { minLength: n, maxLength: n }).map((args) => [name, ...args].join(' ')),
    );
  });
}

function pipeline(scope: Scope): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: call(scope) },
    { weight: 2, arbitrary: operand(scope) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.oneof(operand(scope), call(scope)),
          fc.constantFrom(
            'printf "%v"',
            'len',
            'print',
            'not',
            'html',
            'getv',
            'split ","',
            'eq 1',
            'index .a',
          ),
        )
        .map(([head, tail]) => `${head} | ${tail}`),
    },
  );
}

const open = fc.constantFrom('{{', '{{', '{{- ', '{{ ');
const close = fc.constantFrom('}}', '}}', ' -}}', ' }}');

function action(scope: Scope): fc.Arbitrary<string> {
  return fc.tuple(open, pipeline(scope), close).map(([o, p, c]) => o + p + c);
}

function body(scope: Scope, size: number): fc.Arbitrary<string> {
  return fc.array(piece(scope), { maxLength: size }).map((parts) => parts.join(''));
}

function piece(scope: Scope): fc.Arbitrary<string> {
  const leaf: fc.Arbitrary<string>[] = [
    TEXT,
    action(scope),
    fc.constant('{{/* c */}}'),
    fc.constant('{{- /* c */ -}}'),
  ];
  if (scope.inRange) leaf.push(fc.constantFrom('{{break}}', '{{continue}}'));
  if (scope.depth >= 2) return fc.oneof(...leaf);
  const deeper: Scope = { ...scope, depth: scope.depth + 1 };
  return fc.oneof(
    { weight: 6, arbitrary: fc.oneof(...leaf) },
    { weight: 1, arbitrary: ifBlock(deeper) },
    { weight: 1, arbitrary: rangeBlock(deeper) },
    { weight: 1, arbitrary: withBlock(deeper) },
  );
}

function ifBlock(scope: Scope): fc.Arbitrary<string> {
  return fc
    .tuple(pipeline(scope), body(scope, 2), fc.option(pipeline(scope)), fc.option(body(scope, 2)))
    .map(([cond, then, elseIf, otherwise]) => {
      let out = `{{if ${cond}}}${then}`;
      if (elseIf !== null) out += `{{else if ${elseIf}}}${then}`;
      if (otherwise !== null) out += `{{else}}${otherwise}`;
      return `${out}{{end}}`;
    });
}

function rangeBlock(scope: Scope): fc.Arbitrary<string> {
  return fc.constantFrom('', '$v := ', '$i, $v := ').chain((decl) => {
    const vars = decl === '' ? [] : decl === '$v := ' ? ['$v'] : ['$i', '$v'];
    const inner: Scope = { ...scope, vars: [...scope.vars, ...vars], inRange: true };
    return fc
      .tuple(pipeline(scope), body(inner, 3), fc.option(body(scope, 2)))
      .map(
        ([over, loop, otherwise]) =>
          `{{range ${decl}${over}}}${loop}${otherwise === null ? '' : `{{else}}${otherwise}`}{{end}}`,
      );
  });
}

function withBlock(scope: Scope): fc.Arbitrary<string> {
  return fc
    .tuple(pipeline(scope), body(scope, 2), fc.option(body(scope, 2)))
    .map(
      ([value, then, otherwise]) =>
        `{{with ${value}}}${then}${otherwise === null ? '' : `{{else}}${otherwise}`}{{end}}`,
    );
}

/** A whole template: maybe variable declarations and a define first, then a body using them. */
export const template: fc.Arbitrary<string> = fc
  .tuple(fc.option(pipeline({ vars: [], inRange: false, depth: 1 })), fc.boolean(), fc.boolean())
  .chain(([declared, define, callIt]) => {
    const vars = declared === null ? [] : ['$x'];
    const scope: Scope = { vars, inRange: false, depth: 0 };
    return body(scope, 5).map((main) => {
      let out = declared === null ? '' : `{{$x := ${declared}}}`;
      if (define) out += '{{define "t"}}[{{.}}]{{end}}';
      out += main;
      if (callIt) out += define ? '{{template "t" .a}}' : '{{template "t"}}';
      return out;
    });
  });

export const oracleCase: fc.Arbitrary<OracleCase> = fc
  .record({ template, data: jsonValue, kv: store })
  .map((c) => ({ ...c, now: 1709618889120 }));
