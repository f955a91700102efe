import { expect } from 'chai';
import { compileTemplateSource } from '../../../src/template/compile-source.js';
import { KVStore } from '../../../src/template/kv-store.js';
import { NO_DNS } from './render.js';

/**
 * `{{.Key}}` and `{{.Value}}` on a KVPair print its text directly (exec.ts, FieldShortcut), and so does a
 * range body made only of such actions and text (RangeBody). The same action or range reached with
 * another receiver must still evaluate as Go does.
 */
const PAIRS = { '/a/1': 'x', '/a/2': 'y', '/m': '{"Key":"from a map"}' };

function renderGo(source: string): Promise<string> {
  return compileTemplateSource(source, '/etc/confd/templates/t.tmpl', 'go').render(new KVStore(PAIRS), {
    resolver: NO_DNS,
  });
}

async function failure(source: string): Promise<string> {
  try {
    await renderGo(source);
  } catch (err) {
    return (err as Error).message;
  }
  expect.fail(`expected ${source} to fail`);
}

const DEFINE = '{{define "k"}}[{{.Key}}={{.Value}}]{{end}}';

describe('Go templates: a KVPair field printed directly', () => {
  it('prints the pairs, then a map reaching the same actions as a map', async () => {
    const out = await renderGo(
      `${DEFINE}{{range gets "/a/*"}}{{template "k" .}}{{end}}{{template "k" (json (getv "/m"))}}`,
    );
    expect(out).to.equal('[/a/1=x][/a/2=y][from a map=<no value>]');
  });

  it('prints a map first, then the pairs, at one action', async () => {
    const out = await renderGo(
      `{{define "kv"}}[{{.Key}}]{{end}}{{template "kv" (json (getv "/m"))}}` +
        `{{range gets "/a/*"}}{{template "kv" .}}{{end}}`,
    );
    expect(out).to.equal('[from a map][/a/1][/a/2]');
  });

  it('fails as Go does for a receiver without the field, after pairs went through the same action', async () => {
    const alone = await failure(`{{define "kv"}}{{.Key}}{{end}}{{template "kv" "text"}}`);
    const after = await failure(
      `{{define "kv"}}{{.Key}}{{end}}{{range gets "/a/*"}}{{template "kv" .}}{{end}}{{template "kv" "text"}}`,
    );
    expect(alone).to.match(/can't evaluate field Key in type string/);
    expect(after).to.equal(alone);
  });

  it('runs a range body of text and fields over pairs, then the same range over strings as Go does', async () => {
    const range = '{{define "r"}}{{range .}}<{{.Key}}={{/* a comment */}}{{.Value}}>{{end}}{{end}}';
    const pairs = await renderGo(`${range}{{template "r" (gets "/a/*")}}`);
    expect(pairs).to.equal('</a/1=x></a/2=y>');
    const alone = await failure(`${range}{{template "r" (getvs "/a/*")}}`);
    const after = await failure(`${range}{{template "r" (gets "/a/*")}}{{template "r" (getvs "/a/*")}}`);
    expect(alone).to.match(/can't evaluate field Key in type string/);
    expect(after).to.equal(alone);
  });

  it('takes the general way for a range body with anything else in it', async () => {
    const out = await renderGo(
      '{{range $i, $p := gets "/a/*"}}{{$i}}:{{.Key}}{{if eq .Value "y"}}!{{end}} {{end}}' +
        '{{range gets "/a/*"}}{{.Key}}{{break}}{{end}}',
    );
    expect(out).to.equal('0:/a/1 1:/a/2! /a/1');
  });
});
