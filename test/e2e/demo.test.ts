import { expect } from 'chai';
import { readFile, rm, mkdtemp, cp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runConfd } from './support/confd-process.js';

describe('bundled Prometheus example (npm run demo)', () => {
  let dir: string;

  beforeEach(async () => {
    // Run from a copy so the test never writes into the checkout's out/ directory.
    dir = await mkdtemp(join(tmpdir(), 'confd-demo-'));
    for (const part of ['conf.d', 'templates', 'example'])
      await cp(join(repoRoot, part), join(dir, part), { recursive: true });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('renders the expected prometheus.yml from example/data.yaml with the file backend', async () => {
    const run = await runConfd(
      ['-onetime', '-sync-only', '-backend', 'file', '-file', 'example/data.yaml', '-confdir', '.'],
      { cwd: dir },
    );
    expect(run.code, run.stderr).to.equal(0);
    const rendered = await readFile(join(dir, 'out/prometheus.yml'), 'utf8');
    const expected = await readFile(join(repoRoot, 'test/e2e/fixtures/prometheus.expected.yml'), 'utf8');
    expect(rendered).to.equal(expected);
    expect(run.stderr).to.match(/1 resource: 1 updated, 0 in sync, 0 failed/);
  });

  it('renders the same prometheus.yml from the Go text/template twin, templates/prometheus.yml.tmpl', async () => {
    // The bundled resource, pointed at the Go version of its template: the file name picks the engine.
    const resource = await readFile(join(dir, 'conf.d/prometheus.toml'), 'utf8');
    expect(resource).to.include('src = "prometheus.yml.hbs"');
    await writeFile(
      join(dir, 'conf.d/prometheus.toml'),
      resource.replace('src = "prometheus.yml.hbs"', 'src = "prometheus.yml.tmpl"'),
    );
    const run = await runConfd(
      ['-onetime', '-sync-only', '-backend', 'file', '-file', 'example/data.yaml', '-confdir', '.'],
      { cwd: dir },
    );
    expect(run.code, run.stderr).to.equal(0);
    const rendered = await readFile(join(dir, 'out/prometheus.yml'), 'utf8');
    const expected = await readFile(join(repoRoot, 'test/e2e/fixtures/prometheus.expected.yml'), 'utf8');
    expect(rendered).to.equal(expected);
  });

  it('reports "in sync" and leaves the file alone on a second run', async () => {
    const args = [
      '-onetime',
      '-sync-only',
      '-backend',
      'file',
      '-file',
      'example/data.yaml',
      '-confdir',
      '.',
    ];
    expect((await runConfd(args, { cwd: dir })).code).to.equal(0);
    const { stat } = await import('node:fs/promises');
    const before = await stat(join(dir, 'out/prometheus.yml'));
    const second = await runConfd(args, { cwd: dir });
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stderr).to.match(/0 updated, 1 in sync, 0 failed/);
    const after = await stat(join(dir, 'out/prometheus.yml'));
    expect(after.ino).to.equal(before.ino);
    expect(after.mtimeMs).to.equal(before.mtimeMs);
  });
});
