import { expect } from 'chai';
import { compileTemplateSource } from '../../../src/template/compile-source.js';
import { KVStore } from '../../../src/template/kv-store.js';
import { NO_DNS } from './render.js';

/**
 * `{{.Key}}` and `{{.Value}}` on a KVPair print its text directly (exec.ts, FieldShortcut). The same
 * action reached with another receiver must still evaluate as Go does.
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
});
