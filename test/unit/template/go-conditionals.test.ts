import { expect } from 'chai';
import { render, renderError } from './render.js';

const EMPTY_MAP = '(json "{}")';

describe('#if, #unless and #with decide by Go truth', () => {
  const cases: [value: string, truth: boolean][] = [
    [EMPTY_MAP, false],
    ['(json "{\\"a\\":1}")', true],
    ['(map)', false],
    ['(jsonArray "[]")', false],
    ['(jsonArray "[0]")', true],
    ['0', false],
    ['1', true],
    ['""', false],
    ['"0"', true],
    ['false', false],
    ['(get "/k")', true],
    ['missing', false],
  ];
  for (const [value, truth] of cases) {
    it(`${value} is ${truth}`, async () => {
      const out = await render(
        `{{#if ${value}}}T{{else}}F{{/if}}|{{#unless ${value}}}T{{else}}F{{/unless}}|{{#with ${value}}}T{{else}}F{{/with}}`,
        { '/k': '' },
      );
      const [yes, no] = truth ? ['T', 'F'] : ['F', 'T'];
      expect(out).to.equal(`${yes}|${no}|${yes}`);
    });
  }

  it('keeps else-if chains', async () => {
    expect(
      await render(`{{#if ${EMPTY_MAP}}}a{{else if 0}}b{{else if (map "k" 1)}}c{{else}}d{{/if}}`),
    ).to.equal('c');
    expect(await render(`{{#unless 1}}a{{else unless ${EMPTY_MAP}}}b{{/unless}}`)).to.equal('b');
  });

  it('#with moves into the value and supports block params; #if keeps the context', async () => {
    const pairs = { '/cfg': '{"port":80,"tls":{}}' };
    expect(
      await render(
        '{{#with (json (getv "/cfg")) as |cfg|}}{{port}} {{cfg.port}} {{#if tls}}tls{{else}}plain{{/if}} {{#if port}}{{port}}{{/if}}{{/with}}',
        pairs,
      ),
    ).to.equal('80 80 plain 80');
  });

  it('#with 0 renders its else branch, as Go does (Handlebars alone would render the body)', async () => {
    expect(await render('{{#with 0}}[{{this}}]{{else}}zero{{/with}}')).to.equal('zero');
  });

  it('reports misuse with the line', async () => {
    expect((await renderError('\n{{#if 1 2}}x{{/if}}')).message).to.equal(
      '/etc/confd/templates/test.hbs:2:1: #if requires exactly one argument',
    );
    expect((await renderError('{{if 1}}')).message).to.contain('"if" opens a block: {{#if ...}}...{{/if}}');
  });
});
