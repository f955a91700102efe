import { expect } from 'chai';
import { cleanEnv, runConfd, Workspace } from './support/confd-process.js';

describe('confd command line (end to end)', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create();
  });
  afterEach(() => ws.remove());

  it('--version prints the package version', async () => {
    const { readFile } = await import('node:fs/promises');
    const { repoRoot } = await import('./support/confd-process.js');
    const pkg = JSON.parse(await readFile(`${repoRoot}/package.json`, 'utf8')) as { version: string };
    for (const flag of ['--version', '-version']) {
      const run = await runConfd([flag]);
      expect(run.code).to.equal(0);
      expect(run.stdout).to.include(pkg.version);
    }
  });

  it('--help lists the flags and exits 0', async () => {
    const run = await runConfd(['--help']);
    expect(run.code).to.equal(0);
    for (const flag of [
      '-onetime',
      '-interval',
      '-backend',
      '-node',
      '-confdir',
      '-noop',
      '-sync-only',
      '-watch',
    ]) {
      expect(run.stdout).to.include(flag);
    }
  });

  for (const [args, flag] of [
    [['-interval', 'abc'], 'interval'],
    [['-log-level', 'loud'], 'log-level'],
    [['-wait', 'x'], 'wait'],
    [['-no-such-flag'], 'no-such-flag'],
    [['-backend'], 'backend'],
  ] as const) {
    it(`rejects ${args.join(' ')} with exit 2 and a message naming -${flag}`, async () => {
      // The flag under test goes last so a missing value really is missing (Go's flag package would take
      // a following '-onetime' as the value).
      const run = await runConfd(['-onetime', '-confdir', ws.root, ...args]);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.include(flag);
      expect(run.stderr).to.match(/--help/);
      expect(run.stderr).not.to.match(/\n\s+at /); // no stack trace
    });
  }

  for (const backend of ['vault', 'dynamodb', 'ssm', 'rancher', 'nosuchstore']) {
    it(`says backend ${backend} is not supported and exits 1`, async () => {
      const run = await runConfd(['-onetime', '-backend', backend, '-confdir', ws.root]);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include(`backend ${backend} is not supported`);
    });
  }

  it('says so too, and exits 1 at once, for a daemon (-watch, -interval): not a store to retry', async () => {
    for (const mode of [['-watch'], ['-interval', '60']]) {
      const run = await runConfd([...mode, '-backend', 'vault', '-confdir', ws.root]);
      expect(run.code, mode[0]).to.equal(1);
      expect(run.stderr).to.include('backend vault is not supported');
      expect(run.stderr).not.to.match(/\n\s+at /);
    }
  });

  it('fails with the path when an explicitly named config file is missing', async () => {
    const run = await runConfd([
      '-onetime',
      '-config-file',
      ws.path('nope.toml'),
      '-backend',
      'env',
      '-confdir',
      ws.root,
    ]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(ws.path('nope.toml'));
  });

  it('names file, line and column of an invalid config file', async () => {
    const config = await ws.write('confd.toml', 'backend = "env"\ninterval = = 5\n');
    const run = await runConfd(['-onetime', '-config-file', config, '-confdir', ws.root]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(config);
    expect(run.stderr).to.match(/line 2/);
  });

  it('does not log secrets given on the command line', async () => {
    const run = await runConfd([
      '-onetime',
      '-backend',
      'env',
      '-confdir',
      ws.root,
      '-password',
      'hunter2-secret',
      '-auth-token',
      'tok-secret-123',
      '-log-level',
      'debug',
    ]);
    expect(run.stderr).not.to.include('hunter2-secret');
    expect(run.stderr).not.to.include('tok-secret-123');
  });

  it('refuses credentials in a -node URL with exit 2, without echoing them', async () => {
    const run = await runConfd([
      '-onetime',
      '-confdir',
      ws.root,
      '-backend',
      'consul',
      '-node',
      'http://ops:nodepw-secret@127.0.0.1:1',
    ]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include('-node').and.include('-username');
    expect(run.stderr).not.to.include('nodepw-secret');
  });

  it('refuses credentials in CONFD_NODES with exit 1, naming the variable, without echoing them', async () => {
    const run = await runConfd(['-onetime', '-confdir', ws.root, '-backend', 'etcd'], {
      env: cleanEnv({ CONFD_NODES: 'https://ops:nodepw-secret@10.0.0.1:2379' }),
    });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include('CONFD_NODES');
    expect(run.stderr).not.to.include('nodepw-secret');
  });

  it('-backend file without -file is a usage error: exit 2 with the hint', async () => {
    const run = await runConfd(['-onetime', '-confdir', ws.root, '-backend', 'file']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include('-file');
    expect(run.stderr).to.match(/--help/);
  });

  it('-template-engine picks the engine for templates whose resource names none; a bad value exits 2', async () => {
    // A Handlebars template with a confd-style name: Go by default, Handlebars when asked.
    await ws.write('templates/t.tmpl', '{{#if true}}hbs{{/if}}\n');
    await ws.write('conf.d/t.toml', `[template]\nsrc = "t.tmpl"\ndest = "${ws.path('out/t')}"\n`);
    const base = ['-onetime', '-backend', 'env', '-confdir', ws.root];
    const byName = await runConfd(base);
    expect(byName.code).to.equal(1);
    expect(byName.stderr).to.include('parsed as a Go text/template').and.include('engine = "handlebars"');
    const asked = await runConfd([...base, '-template-engine', 'handlebars']);
    expect(asked.code, asked.stderr).to.equal(0);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(ws.path('out/t'), 'utf8')).to.equal('hbs\n');
    const bad = await runConfd([...base, '-template-engine', 'jinja']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include(
      '-template-engine (template_engine, CONFD_TEMPLATE_ENGINE) must be auto, go or handlebars',
    );
  });

  it('writes log lines in confd’s format on stderr', async () => {
    await ws.write('templates/t.hbs', 'x\n');
    await ws.write('conf.d/t.toml', `[template]\nsrc = "t.hbs"\ndest = "${ws.path('out/t')}"\n`);
    const run = await runConfd(['-onetime', '-backend', 'env', '-confdir', ws.root]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \S+ confd\[\d+\]: INFO .+$/m);
  });
});
