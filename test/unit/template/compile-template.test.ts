import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemplateError } from '../../../src/errors.js';
import { compileTemplate } from '../../../src/template/compile-template.js';
import { compileTemplateSource } from '../../../src/template/compile-source.js';
import { HELPER_NAMES } from '../../../src/template/helpers/helper-specs.js';
import { KVStore } from '../../../src/template/kv-store.js';
import { NO_DNS, render, renderError, TEMPLATE } from './render.js';

function compileError(source: string): TemplateError {
  try {
    compileTemplateSource(source, TEMPLATE);
  } catch (err) {
    expect(err).to.be.instanceOf(TemplateError);
    return err as TemplateError;
  }
  expect.fail(`expected ${JSON.stringify(source)} not to compile`);
}

describe('compileTemplate', () => {
  it('registers every confd function and the Go builtins', () => {
    const expected = [
      'exists',
      'get',
      'gets',
      'getv',
      'getvs',
      'ls',
      'lsdir',
      'getenv',
      'base',
      'dir',
      'split',
      'join',
      'toUpper',
      'toLower',
      'contains',
      'replace',
      'trimSuffix',
      'json',
      'jsonArray',
      'map',
      'datetime',
      'lookupIP',
      'lookupIPV4',
      'lookupIPV6',
      'lookupSRV',
      'fileExists',
      'base64Encode',
      'base64Decode',
      'parseBool',
      'reverse',
      'sortByLength',
      'sortKVByLength',
      'add',
      'sub',
      'mul',
      'div',
      'mod',
      'seq',
      'atoi',
      'printf',
      'len',
      'index',
      'eq',
      'ne',
      'lt',
      'le',
      'gt',
      'ge',
      'and',
      'or',
      'not',
    ];
    expect([...HELPER_NAMES].sort()).to.deep.equal([...expected].sort());
  });

  describe('output', () => {
    it('never HTML-escapes', async () => {
      const pairs = { '/v': `<a href="x">&'</a>` };
      expect(await render('{{getv "/v"}}|{{{getv "/v"}}}|<>&"\'', pairs)).to.equal(
        `<a href="x">&'</a>|<a href="x">&'</a>|<>&"'`,
      );
    });

    it('writes values containing mustaches, unicode and newlines verbatim', async () => {
      const pairs = { '/tpl': '{{getv "/x"}} {{#if}}', '/uni': 'größe ✓ 😀', '/multi': 'line1\nline2\r\n' };
      expect(await render('{{getv "/tpl"}}|{{getv "/uni"}}|{{getv "/multi"}}|', pairs)).to.equal(
        '{{getv "/x"}} {{#if}}|größe ✓ 😀|line1\nline2\r\n|',
      );
    });

    it('prints lists, maps and pairs the way Go does', async () => {
      const pairs = { '/a/1': 'x', '/a/2': 'y' };
      expect(
        await render('{{getvs "/a/*"}} {{get "/a/1"}} {{map "k" "v"}} {{split "" ","}}', pairs),
      ).to.equal('[x y] {/a/1 x} map[k:v] []');
    });

    it('renders a missing property as empty (Handlebars default), not as an error', async () => {
      expect(
        await render('[{{nope}}][{{nope.deeper}}]{{#each (gets "/x/*")}}[{{Missing}}]{{/each}}', {
          '/x/a': '1',
        }),
      ).to.equal('[][][]');
    });

    it('drops standalone block and comment lines, and trims at ~ markers', async () => {
      const template = [
        'upstream {',
        '{{#each (gets "/up/*") as |kv i|}}',
        '  server {{kv.Value}}; # {{i}}',
        '{{/each}}',
        '{{!-- a comment on its own line --}}',
        '}',
        'weight   {{~ getv "/w" ~}}   ;',
        '',
      ].join('\n');
      const pairs = { '/up/1': '10.0.0.1', '/up/2': '10.0.0.2', '/w': '5' };
      expect(await render(template, pairs)).to.equal(
        'upstream {\n  server 10.0.0.1; # 0\n  server 10.0.0.2; # 1\n}\nweight5;\n',
      );
    });

    it('supports else-if chains', async () => {
      const template = '{{#if (eq (getv "/mode") "a")}}A{{else if (eq (getv "/mode") "b")}}B{{else}}C{{/if}}';
      expect(await render(template, { '/mode': 'b' })).to.equal('B');
      expect(await render(template, { '/mode': 'z' })).to.equal('C');
    });

    it('keeps blank lines around standalone block tags exactly once', async () => {
      const template = 'a\n\n{{#if (exists "/k")}}\n\nb\n{{/if}}\n\nc\n';
      expect(await render(template, { '/k': '1' })).to.equal('a\n\n\nb\n\nc\n');
    });

    it('lets block params shadow helper names', async () => {
      expect(
        await render('{{#each (ls "/d") as |base|}}{{base}};{{/each}}', { '/d/x': '1', '/d/y': '2' }),
      ).to.equal('x;y;');
    });

    it('supports inline partials for repeated fragments', async () => {
      const template =
        '{{#*inline "srv"}}server {{Value}};{{/inline}}{{#each (gets "/s/*")}}{{> srv}}{{/each}}';
      expect(await render(template, { '/s/a': '1', '/s/b': '2' })).to.equal('server 1;server 2;');
    });
  });

  describe('errors', () => {
    it('reports a syntax error with the template and line', () => {
      const err = compileError('line 1\nline 2\n{{#if (exists "/k")}}\nunclosed\n');
      expect(err.template).to.equal(TEMPLATE);
      expect(err.line).to.equal(5);
      expect(err.message).to.match(new RegExp(`^${TEMPLATE}:5: syntax error: `));
    });

    it('reports a mismatched closing tag with its line', () => {
      const err = compileError('a\n{{#each (gets "/x/*")}}\n{{/if}}');
      expect(err.line).to.equal(2);
      expect(err.message).to.contain("each doesn't match if");
    });

    it('rejects an unknown helper at compile time, even in a branch never taken', () => {
      const err = compileError('ok\n{{#if false}}\n  {{frobnicate "x"}}\n{{/if}}');
      expect(err.line).to.equal(3);
      expect(err.message).to.equal(`${TEMPLATE}:3:3: unknown helper "frobnicate"`);
    });

    it('rejects unknown helpers in subexpressions and blocks', () => {
      expect(compileError('{{getv (nope "/x")}}').message).to.contain('unknown helper "nope"');
      expect(compileError('{{#nope "x"}}{{/nope}}').message).to.contain('unknown helper "nope"');
      // Handlebars' log would bypass the logger and write to stdout.
      expect(compileError('{{log "debug"}}').message).to.contain('unknown helper "log"');
    });

    it('points Go template syntax at the docs', () => {
      expect(compileError('{{range gets "/x/*"}}{{end}}').message).to.contain('Go template syntax');
      expect(compileError('{{.Value}}').message).to.contain('Go template syntax');
      expect(compileError('{{$x := getv "/k"}}').message).to.contain('Go template syntax');
    });

    it('names template, line and key for helper failures at render time', async () => {
      const err = await renderError('a\nb\n   {{#with (get "/db")}}{{Value}}{{/with}}');
      expect(err).to.include({ template: TEMPLATE, line: 3, key: '/db' });
      expect(err.message).to.equal(`${TEMPLATE}:3:12: error calling get: key does not exist: /db`);
    });

    it('fails reading a missing template file with a TemplateError naming it', async () => {
      const path = join(tmpdir(), 'confd-ts-does-not-exist.tmpl');
      const err = await compileTemplate(path).then(
        () => expect.fail('should not compile'),
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(TemplateError).with.property('template', path);
    });
  });

  describe('compiled templates', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'confd-ts-compile-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('compile a file once and render it against many stores, concurrently', async () => {
      const path = join(dir, 'nginx.conf.hbs');
      await writeFile(
        path,
        [
          'upstream {{getv "/app/name"}} {',
          '{{#each (gets "/app/upstream/*")}}',
          '    server {{Value}};',
          '{{/each}}',
          '}',
          '',
        ].join('\n'),
      );
      const template = await compileTemplate(path);
      expect(template.path).to.equal(path);
      const stores = [1, 2, 3].map(
        (n) =>
          new KVStore({
            '/app/name': `app${n}`,
            ...Object.fromEntries(
              Array.from({ length: n }, (_, i) => [`/app/upstream/s${i}`, `10.0.0.${i}:80`]),
            ),
          }),
      );
      const outputs = await Promise.all(stores.map((store) => template.render(store, { resolver: NO_DNS })));
      expect(outputs[0]).to.equal('upstream app1 {\n    server 10.0.0.0:80;\n}\n');
      expect(outputs[2]).to.equal(
        'upstream app3 {\n    server 10.0.0.0:80;\n    server 10.0.0.1:80;\n    server 10.0.0.2:80;\n}\n',
      );
      // A later render sees its own store only.
      expect(await template.render(new KVStore({ '/app/name': 'solo' }), { resolver: NO_DNS })).to.equal(
        'upstream solo {\n}\n',
      );
    });

    it('render a confd-style template with every family of helpers', async () => {
      const source = [
        '# generated {{datetime "2006-01-02" "UTC"}} for {{toUpper (base (getv "/svc/name"))}}',
        '{{#with (json (getv "/svc/config"))}}',
        'listen {{port}};',
        '{{#if tls}}ssl on;{{/if}}',
        '{{/with}}',
        '{{#each (lsdir "/svc/backends")}}',
        '{{#with (getv (printf "/svc/backends/%s/weight" this) "1") as |w|}}',
        'backend {{../this}} weight={{w}} max={{mul (atoi w) 10}}',
        '{{/with}}',
        '{{/each}}',
        'hosts: {{join (sortByLength (split (getv "/svc/hosts") ",")) " "}}',
        'secret: {{base64Decode (getv "/svc/secret")}}',
        '',
      ].join('\n');
      const pairs = {
        '/svc/name': '/apps/web',
        '/svc/config': '{"port": 443, "tls": true}',
        '/svc/backends/b1/addr': '10.0.0.1',
        '/svc/backends/b1/weight': '3',
        '/svc/backends/b2/addr': '10.0.0.2',
        '/svc/hosts': 'example.com,a.io,www.example.com',
        '/svc/secret': 'czNjcjN0',
      };
      const out = await render(source, pairs, { now: new Date(Date.UTC(2024, 0, 31, 23, 0)) });
      expect(out).to.equal(
        [
          '# generated 2024-01-31 for WEB',
          'listen 443;',
          'ssl on;',
          'backend b1 weight=3 max=30',
          'backend b2 weight=1 max=10',
          'hosts: a.io example.com www.example.com',
          'secret: s3cr3t',
          '',
        ].join('\n'),
      );
    });
  });
});

describe('Handlebars forms of confd idioms (docs/templates.md)', () => {
  const pairs = {
    '/x/a': '1',
    '/x/b': '2',
    '/k': 'v',
    '/cfg': '{"port": 80}',
    '/motd': 'hi',
    '/n/east/a': 'e',
  };
  const cases: [template: string, expected: string][] = [
    ['{{#each (gets "/x/*") as |kv i|}}{{i}} {{kv.Value}};{{/each}}', '0 1;1 2;'],
    ['{{#each (getvs "/x/*")}}{{this}}{{/each}}', '12'],
    ['{{#each (lsdir "/n")}}{{#each (gets (printf "/n/%s/*" this))}}{{Key}}{{/each}}{{/each}}', '/n/east/a'],
    ['{{#unless (exists "/nope")}}absent{{/unless}}', 'absent'],
    ['{{#with (getv "/k") as |x|}}{{x}}{{/with}}', 'v'],
    ['{{#with (json (getv "/cfg")) as |data|}}{{data.port}}{{/with}}', '80'],
    ['{{#each (gets "/x/*")}}{{Key}}@{{../root}} {{/each}}', '/x/a@ /x/b@ '],
    ['{{#each (gets "/none/*")}}x{{else}}empty{{/each}}', 'empty'],
    [
      '{{#getv "/motd" ""}}motd {{this}};{{/getv}}{{#getv "/none" ""}}x{{else}}no motd{{/getv}}',
      'motd hi;no motd',
    ],
    ['{{or (getenv "CONFD_TS_SURELY_UNSET") "8080"}}', '8080'],
    ['{{printf "%q" (toUpper (getv "/k"))}}', '"V"'],
    ['{{#each (seq 1 3)}}{{this}}{{/each}}', '123'],
  ];
  for (const [template, expected] of cases) {
    it(template, async () => {
      expect(await render(template, pairs)).to.equal(expected);
    });
  }
});
