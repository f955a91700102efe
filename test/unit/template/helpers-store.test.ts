import { expect } from 'chai';
import { render, renderError, TEMPLATE } from './render.js';

describe('store helpers', () => {
  const pairs = {
    '/upstream/b': '10.0.0.2:80',
    '/upstream/a': '10.0.0.1:80',
    '/upstream/deep/x': 'not matched by *',
    '/nested/east/app1': '1',
    '/nested/east/app2': '2',
    '/nested/west/app1': '3',
    '/nested/leaf': 'leaf',
    '/db/host': 'db.local',
    '/db/empty': '',
  };

  it('gets iterates pairs sorted by key, * staying within one segment', async () => {
    const out = await render('{{#each (gets "/upstream/*")}}server {{Value}};\n{{/each}}', pairs);
    expect(out).to.equal('server 10.0.0.1:80;\nserver 10.0.0.2:80;\n');
  });

  it('gets prints Key and Value, also through block params', async () => {
    const out = await render(
      '{{#each (gets "/upstream/?") as |kv|}}{{kv.Key}}={{kv.Value}} {{/each}}',
      pairs,
    );
    expect(out).to.equal('/upstream/a=10.0.0.1:80 /upstream/b=10.0.0.2:80 ');
  });

  it('nests lsdir and gets through printf', async () => {
    const out = await render(
      '{{#each (lsdir "/nested")}}[{{this}}]{{#each (gets (printf "/nested/%s/*" this))}} {{Key}}={{Value}}{{/each}}\n{{/each}}',
      pairs,
    );
    expect(out).to.equal('[east] /nested/east/app1=1 /nested/east/app2=2\n[west] /nested/west/app1=3\n');
  });

  it('ls includes leaf keys, lsdir only directories', async () => {
    expect(await render('{{join (ls "/nested") ","}}', pairs)).to.equal('east,leaf,west');
    expect(await render('{{join (lsdir "/nested") ","}}', pairs)).to.equal('east,west');
  });

  it('getvs lists values sorted by value', async () => {
    expect(await render('{{#each (getvs "/nested/*/*")}}{{this}}{{/each}}', pairs)).to.equal('123');
  });

  it('getv returns the value, or the default for a missing key', async () => {
    expect(
      await render('{{getv "/db/host"}}|{{getv "/db/port" "5432"}}|{{getv "/db/empty" "x"}}|', pairs),
    ).to.equal('db.local|5432||');
  });

  it('get returns the pair; with a block it acts like with', async () => {
    expect(await render('{{#with (get "/db/host")}}{{Key}} -> {{Value}}{{/with}}', pairs)).to.equal(
      '/db/host -> db.local',
    );
    expect(await render('{{#get "/db/host"}}{{Value}}{{/get}}', pairs)).to.equal('db.local');
  });

  it('exists drives if/else, as a subexpression or as a block', async () => {
    const template = '{{#if (exists "/db/host")}}a{{else}}b{{/if}}{{#exists "/nope"}}c{{else}}d{{/exists}}';
    expect(await render(template, pairs)).to.equal('ad');
  });

  it('gets as a block iterates with @index, @first, @last and {{else}} for no matches', async () => {
    const template =
      '{{#gets "/upstream/*"}}{{@index}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}} {{/gets}}{{#gets "/none/*"}}x{{else}}none{{/gets}}';
    expect(await render(template, pairs)).to.equal('0F 1L none');
  });

  it('a missing key fails with template, line and key', async () => {
    const err = await renderError('line one\nline two {{getv "/db/port"}}\n', pairs);
    expect(err.template).to.equal(TEMPLATE);
    expect(err.line).to.equal(2);
    expect(err.key).to.equal('/db/port');
    expect(err.message).to.equal(`${TEMPLATE}:2:10: error calling getv: key does not exist: /db/port`);
  });

  it('get on a missing key fails inside nested blocks with the inner line', async () => {
    const err = await renderError('{{#each (lsdir "/nested")}}\n\n{{get "/missing"}}{{/each}}', pairs);
    expect(err.line).to.equal(3);
    expect(err.key).to.equal('/missing');
  });

  it('a malformed gets pattern fails the render', async () => {
    const err = await renderError('{{#each (gets "/upstream/[")}}{{/each}}', pairs);
    expect(err.message).to.contain('syntax error in pattern: /upstream/[');
    expect(err.line).to.equal(1);
  });

  it('checks argument count and types', async () => {
    expect((await renderError('{{getv}}')).message).to.contain(
      'error calling getv: wrong number of args: want 1 to 2, got 0',
    );
    expect((await renderError('{{exists 5}}')).message).to.contain('expected string; got int');
    expect((await renderError('{{getv "/a" x="y"}}')).message).to.contain('named (key=value) arguments');
  });
});
