import { expect } from 'chai';
import { render, renderError } from './render.js';

describe('math and collection helpers', () => {
  it('add, sub, mul, div, mod on ints; div truncates toward zero', async () => {
    expect(
      await render('{{add 2 3}} {{sub 2 5}} {{mul 4 -3}} {{div 7 2}} {{div -7 2}} {{mod 7 3}} {{mod -7 3}}'),
    ).to.equal('5 -3 -12 3 -3 1 -1');
  });

  it('rejects division by zero and non-integers', async () => {
    expect((await renderError('{{div 1 0}}')).message).to.contain(
      'error calling div: integer divide by zero',
    );
    expect((await renderError('{{mod 1 0}}')).message).to.contain('integer divide by zero');
    const err = await renderError('{{add (getv "/n") 1}}');
    expect(err.message).to.contain('key does not exist');
    expect((await renderError('{{add "1" 2}}')).message).to.contain(
      'expected int; got string (convert strings with atoi)',
    );
    expect((await renderError('{{add 1.5 2}}')).message).to.contain('expected int; got float64');
  });

  it('seq counts inclusively and is empty when first > last', async () => {
    expect(await render('{{seq 3 5}} {{#each (seq 1 3)}}{{this}}{{/each}} {{len (seq 5 3)}}')).to.equal(
      '[3 4 5] 123 0',
    );
  });

  it('map builds a map from key/value pairs', async () => {
    expect(await render('{{#with (map "b" 2 "a" "x")}}{{a}}{{b}}{{/with}} {{map "z" 1 "y" 2}}')).to.equal(
      'x2 map[y:2 z:1]',
    );
    expect((await renderError('{{map "a"}}')).message).to.contain('invalid map call');
    expect((await renderError('{{map 1 2}}')).message).to.contain('map keys must be strings');
  });

  it('reverse returns a reversed copy of lists and anything else unchanged', async () => {
    const pairs = { '/x/a': '1', '/x/b': '2', '/x/c': '3' };
    const out = await render(
      '{{#each (reverse (gets "/x/*"))}}{{Key}} {{/each}}{{#each (gets "/x/*")}}{{Value}}{{/each}} {{reverse (split "a,b" ",")}} {{reverse "str"}}',
      pairs,
    );
    expect(out).to.equal('/x/c /x/b /x/a 123 [b a] str');
  });

  it('sortByLength and sortKVByLength order by byte length, stably', async () => {
    expect(await render('{{sortByLength (split "ccc,a,é,bb,d" ",")}}')).to.equal('[a d é bb ccc]');
    const pairs = { '/k/long': '1', '/k/a': '2', '/k/mid': '3', '/k/b': '4' };
    expect(await render('{{#each (sortKVByLength (gets "/k/*"))}}{{Key}} {{/each}}', pairs)).to.equal(
      '/k/a /k/b /k/mid /k/long ',
    );
    expect((await renderError('{{sortKVByLength (split "a" ",")}}')).message).to.contain(
      'expected []memkv.KVPair',
    );
  });
});
