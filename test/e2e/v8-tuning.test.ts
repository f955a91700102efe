import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRecordingV8Flags } from '../support/v8-flags.js';
import { cleanEnv, confdBin } from './support/confd-process.js';

// The same for a run on each store: test/integration/onetime-startup.test.ts.
describe('V8 tuning of a run (src/cli/v8-tuning.ts)', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-v8-'));
    await mkdir(join(dir, 'conf.d'));
    await mkdir(join(dir, 'templates'));
    await writeFile(join(dir, 'data.yaml'), 'a: "1"\n');
    await writeFile(join(dir, 'templates/a.tmpl'), 'a={{getv "/a"}}\n');
    const resource = `[template]\nsrc = "a.tmpl"\ndest = "${join(dir, 'out/a.conf')}"\nkeys = ["/a"]\n`;
    await writeFile(join(dir, 'conf.d/a.toml'), resource);
  });

  after(() => rm(dir, { recursive: true, force: true }));

  const run = (env: Record<string, string> = {}) => {
    const args = ['-onetime', '-backend', 'file', '-file', join(dir, 'data.yaml'), '-confdir', dir];
    const report = runRecordingV8Flags(confdBin, [...args, '-config-file', ''], cleanEnv(env));
    expect(report.status, report.stderr).to.equal(0);
    return report;
  };

  it('sets its flags once the modules of the run are loaded, so that Node.js keeps its code cache for them', () => {
    const report = run();
    expect(report.flags).to.deep.equal(['--semi-space-growth-factor=1', '--max-opt=1', '--expose-gc']);
    expect(report.builtins).to.deep.equal([]);
  });

  it('sets none with CONFD_V8_TUNING=off', () => {
    expect(run({ CONFD_V8_TUNING: 'off' }).flags).to.deep.equal([]);
  });
});
