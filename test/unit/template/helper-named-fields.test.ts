import { expect } from 'chai';
import { render, renderError } from './render.js';

/** An object whose fields share their names with helpers, as JSON from a store often does. */
const CFG = {
  '/cfg': '{"dir":"/srv","index":["a","b"],"len":3,"base":"x","join":"j","datetime":"d","map":{"k":1}}',
};

describe('fields named like helpers', () => {
  it('a bare name reads the field where the helper would need arguments', async () => {
    expect(
      await render('{{#with (json (getv "/cfg"))}}{{dir}} {{index}} {{len}} {{base}} {{join}}{{/with}}', CFG),
    ).to.equal('/srv [a b] 3 x j');
  });

  it('works in subexpressions, blocks and #each', async () => {
    expect(
      await render(
        '{{#with (json (getv "/cfg"))}}{{toUpper (dir)}} {{#index}}[{{this}}]{{/index}} {{join (index) ","}}{{/with}}',
        CFG,
      ),
    ).to.equal('/SRV [a][b] a,b');
    expect(
      await render('{{#each (jsonArray (getv "/list"))}}{{base}};{{/each}}', {
        '/list': '[{"base":"a"},{"base":"b"}]',
      }),
    ).to.equal('a;b;');
  });

  it('helpers called with arguments stay helpers', async () => {
    expect(
      await render('{{#with (json (getv "/cfg"))}}{{dir "/a/b"}} {{len "abcd"}}{{/with}}', CFG),
    ).to.equal('/a 4');
  });

  it('helpers that need no arguments (datetime, map) stay helpers; this.name reads the field', async () => {
    const now = new Date('2024-03-05T06:08:09Z');
    const out = await render(
      '{{#with (json (getv "/cfg"))}}{{datetime "Unix"}} {{datetime}}|{{this.datetime}} {{map}}|{{this.map}}{{/with}}',
      CFG,
      { now },
    );
    expect(out).to.match(/^1709618889 2024-03-05 \S+ \S+ \S+\|d map\[\]\|map\[k:1\]$/);
  });

  it('without such a field, the arity error suggests this.name', async () => {
    const err = await renderError('{{#with (json "{\\"a\\":1}")}}\n  {{dir}}{{/with}}');
    expect(err.message).to.equal(
      '/etc/confd/templates/test.hbs:2:3: error calling dir: wrong number of args: want 1, got 0 (for a field named "dir", write {{this.dir}})',
    );
    expect((await renderError('{{add 1}}')).message).to.match(/want 2, got 1$/);
  });

  it('only objects have fields: inside a list of strings the helper is called', async () => {
    const err = await renderError('{{#each (split "a" ",")}}{{len}}{{/each}}');
    expect(err.message).to.contain('error calling len: wrong number of args');
  });
});
