import { expect } from 'chai';
import { render, renderError } from './render.js';

describe('Go template builtins', () => {
  const pairs = { '/env': 'prod', '/port': '8080', '/hosts': 'a,b,c', '/empty': '' };

  it('eq compares with any of several values; ne', async () => {
    const out = await render(
      '{{eq (getv "/env") "prod"}} {{eq (getv "/env") "dev" "prod"}} {{eq 1 2}} {{ne (getv "/env") "dev"}}',
      pairs,
    );
    expect(out).to.equal('true true false true');
  });

  it('eq refuses to compare a string with a number, as Go does', async () => {
    expect((await renderError('{{eq (getv "/port") 8080}}', pairs)).message).to.contain(
      'incompatible types for comparison: string and int',
    );
    expect(await render('{{eq (atoi (getv "/port")) 8080}}', pairs)).to.equal('true');
  });

  it('lt, le, gt, ge on numbers and bytewise on strings', async () => {
    expect(
      await render('{{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge 3 2}} {{lt "B" "a"}} {{gt "é" "z"}}'),
    ).to.equal('true true false true true true');
    expect((await renderError('{{lt true false}}')).message).to.contain('invalid type for comparison');
  });

  it('and/or return the deciding argument; not negates Go truthiness', async () => {
    expect(
      await render(
        '{{and "a" "b"}}|{{and "" "b"}}|{{or "" "b"}}|{{or "" 0}}|{{not ""}}|{{not (split "a" ",")}}',
      ),
    ).to.equal('b||b|0|true|false');
    expect(await render('{{#if (and (exists "/env") (eq (getv "/env") "prod"))}}yes{{/if}}', pairs)).to.equal(
      'yes',
    );
  });

  it('len counts bytes of strings, items of lists and maps', async () => {
    expect(
      await render('{{len "héllo"}} {{len (split (getv "/hosts") ",")}} {{len (map "a" 1)}}', pairs),
    ).to.equal('6 3 1');
    expect((await renderError('{{len 5}}')).message).to.contain('len of type int');
  });

  it('index reads lists, maps and string bytes, and reports out-of-range', async () => {
    const out = await render(
      '{{index (split (getv "/hosts") ",") 1}} {{index (map "k" "v") "k"}}|{{index (map "k" "v") "x"}}|{{index "abc" 0}}',
      pairs,
    );
    expect(out).to.equal('b v||97');
    expect(await render('{{index (jsonArray "[[1,2],[3,4]]") 1 0}}')).to.equal('3');
    expect((await renderError('{{index (split "a" ",") 3}}')).message).to.contain('index out of range: 3');
  });

  it('printf formats with Go verbs', async () => {
    expect(await render('{{printf "%s:%d %5s|%-4s|%q %v%%" "host" 80 "r" "l" "q" 1.5}}')).to.equal(
      'host:80     r|l   |"q" 1.5%',
    );
    expect(await render('{{printf "%s" (getv "/port")}} {{printf "%d" (getv "/port")}}', pairs)).to.equal(
      '8080 %!d(string=8080)',
    );
  });
});
