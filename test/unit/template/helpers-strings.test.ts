import { expect } from 'chai';
import { render, renderError } from './render.js';

describe('string, path, conversion and encoding helpers', () => {
  it('split and join', async () => {
    expect(await render('{{#each (split "a,b,,c" ",")}}[{{this}}]{{/each}}')).to.equal('[a][b][][c]');
    expect(await render('{{join (split "x:y:z" ":") "-"}}')).to.equal('x-y-z');
    expect(await render('{{len (split "" ",")}} {{join (split "héé" "") "."}}')).to.equal('1 h.é.é');
  });

  it('toUpper and toLower use simple case mapping, as Go does', async () => {
    expect(await render('{{toUpper "straße"}} {{toLower "ÀB"}}')).to.equal('STRAßE àb');
  });

  it('contains, trimSuffix', async () => {
    expect(await render('{{contains "foobar" "oba"}} {{contains "foo" "x"}}')).to.equal('true false');
    expect(await render('{{trimSuffix "app.conf" ".conf"}} {{trimSuffix "app" ".conf"}}')).to.equal(
      'app app',
    );
  });

  it('replace with Go strings.Replace semantics, count optional', async () => {
    expect(await render('{{replace "a.b.c" "." "/" -1}} {{replace "a.b.c" "." "/" 1}}')).to.equal(
      'a/b/c a/b.c',
    );
    expect(await render('{{replace "a.b.c" "." "_"}}')).to.equal('a_b_c');
    expect(await render('{{replace "ab" "" "-" -1}} {{replace "ab" "" "-" 2}}')).to.equal('-a-b- -a-b');
  });

  it('base and dir follow Go path semantics', async () => {
    const out = await render(
      '{{base "/a/b/"}} {{base ""}} {{base "///"}} {{dir "/a/b/c"}} {{dir "a"}} {{dir "/a/b/"}} {{dir "/"}}',
    );
    expect(out).to.equal('b . / /a/b . /a/b /');
  });

  it('json unmarshals an object; keys iterate in Go (sorted) order', async () => {
    const pairs = { '/cfg': '{"port": 8080, "name": "web", "tags": ["a", "b"], "db": {"host": "h"}}' };
    const out = await render(
      '{{#with (json (getv "/cfg"))}}{{name}}:{{port}} {{db.host}} {{tags}}{{/with}} {{#each (json (getv "/cfg"))}}{{@key}} {{/each}}',
      pairs,
    );
    expect(out).to.equal('web:8080 h [a b] db name port tags ');
  });

  it('jsonArray unmarshals an array', async () => {
    expect(await render('{{#each (jsonArray "[1, \\"two\\", {\\"k\\": 3}]")}}{{this}};{{/each}}')).to.equal(
      '1;two;map[k:3];',
    );
  });

  it('json and jsonArray reject the wrong shape and invalid JSON', async () => {
    expect((await renderError('{{json "[1]"}}')).message).to.contain(
      'json: cannot unmarshal array into Go value of type map[string]interface {}',
    );
    expect((await renderError('{{jsonArray "{}"}}')).message).to.contain('cannot unmarshal object');
    expect((await renderError('{{json "{nope"}}')).message).to.contain(
      'error calling json: invalid JSON in a 5-byte string: invalid character looking for beginning of object key string',
    );
    expect((await renderError('{{jsonArray "[1,"}}')).message).to.contain(
      'error calling jsonArray: invalid JSON in a 3-byte string: unexpected end of JSON input',
    );
  });

  it('base64Encode and base64Decode round-trip unicode and reject bad input', async () => {
    expect(await render('{{base64Encode "héllo ✓"}}')).to.equal('aMOpbGxvIOKckw==');
    expect(await render('{{base64Decode "aMOpbGxvIOKckw=="}}')).to.equal('héllo ✓');
    expect((await renderError('{{base64Decode "not base64!"}}')).message).to.contain(
      'illegal base64 data at input byte 3',
    );
    expect((await renderError('{{base64Decode "YQ"}}')).message).to.contain(
      'illegal base64 data at input byte 0',
    );
  });

  it('parseBool accepts exactly what strconv.ParseBool does', async () => {
    expect(
      await render(
        '{{parseBool "1"}} {{parseBool "T"}} {{parseBool "True"}} {{parseBool "FALSE"}} {{parseBool "f"}}',
      ),
    ).to.equal('true true true false false');
    expect((await renderError('{{parseBool "yes"}}')).message).to.contain(
      'strconv.ParseBool: parsing a 3-byte string: invalid syntax',
    );
  });

  it('atoi parses decimal integers only', async () => {
    expect(await render('{{add (atoi "41") 1}} {{atoi "-7"}} {{atoi "+3"}}')).to.equal('42 -7 3');
    expect((await renderError('{{atoi "4.2"}}')).message).to.contain(
      'strconv.Atoi: parsing a 3-byte string: invalid syntax',
    );
    expect((await renderError('{{atoi "99999999999999999999"}}')).message).to.contain('value out of range');
  });
});
