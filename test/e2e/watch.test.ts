import { expect } from 'chai';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cleanEnv, eventually, startConfd, Workspace } from './support/confd-process.js';

const read = (path: string) => readFile(path, 'utf8').catch(() => '');
const lines = async (path: string) => (await read(path)).split('\n').filter((l) => l !== '').length;

describe('watch mode (end to end, file and env backends)', () => {
  let ws: Workspace;
  let daemon: ReturnType<typeof startConfd> | undefined;

  beforeEach(async () => {
    ws = await Workspace.create();
    await ws.write('data.yaml', 'app:\n  name: first\n  port: "80"\n');
    await ws.write('templates/app.hbs', 'name={{getv "/app/name"}} port={{getv "/app/port" "none"}}\n');
    await ws.write('templates/extra.hbs', 'extra={{getv "/app/extra" "unset"}}\n');
    await ws.write('conf.d/app.toml', resource('app.hbs', 'out/app.conf'));
  });

  afterEach(async () => {
    // A test that failed half-way must not leave its daemon running.
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
    await ws.remove();
  });

  function resource(src: string, dest: string, extra = ''): string {
    return `[template]\nsrc = "${src}"\ndest = "${ws.path(dest)}"\nkeys = ["/app"]\n${extra}`;
  }

  function watchFile(...extra: string[]) {
    daemon = startConfd(['-watch', ...ws.fileBackendArgs(), ...extra]);
    return daemon;
  }

  /** Replaces the data file the way editors and config managers do: write aside, rename over. */
  async function replaceData(text: string): Promise<void> {
    await writeFile(ws.path('data.yaml.tmp'), text);
    await rename(ws.path('data.yaml.tmp'), ws.path('data.yaml'));
  }

  async function stop(d: ReturnType<typeof startConfd>, signal: NodeJS.Signals = 'SIGTERM') {
    d.child.kill(signal);
    const result = await d.exited;
    expect(result.code, result.stderr).to.equal(0);
    return result;
  }

  const contentIs = (dest: string, expected: string) => async () => (await read(ws.path(dest))) === expected;

  it('renders at start, then carries an in-place edit to the destination', async () => {
    const d = watchFile();
    await eventually(contentIs('out/app.conf', 'name=first port=80\n'), 'first render');
    await writeFile(ws.path('data.yaml'), 'app:\n  name: second\n  port: "80"\n');
    await eventually(contentIs('out/app.conf', 'name=second port=80\n'), 'the edit to be rendered', 20000);
    await stop(d);
  });

  it('ends on the last value after 200 rapid rewrites of the data file', async () => {
    const d = watchFile();
    await eventually(contentIs('out/app.conf', 'name=first port=80\n'), 'first render');
    for (let i = 1; i <= 200; i++)
      await writeFile(ws.path('data.yaml'), `app:\n  name: v${i}\n  port: "80"\n`);
    await eventually(
      contentIs('out/app.conf', 'name=v200 port=80\n'),
      'the last rewrite to be rendered',
      20000,
    );
    await stop(d);
  });

  it('renders a key added later, and falls back to the getv default when it is deleted', async () => {
    await ws.write('conf.d/extra.toml', resource('extra.hbs', 'out/extra.conf'));
    const d = watchFile();
    await eventually(contentIs('out/extra.conf', 'extra=unset\n'), 'first render with the default');
    await replaceData('app:\n  name: first\n  port: "80"\n  extra: added\n');
    await eventually(contentIs('out/extra.conf', 'extra=added\n'), 'the added key', 20000);
    await replaceData('app:\n  name: first\n');
    await eventually(contentIs('out/app.conf', 'name=first port=none\n'), 'the deleted port', 20000);
    await eventually(contentIs('out/extra.conf', 'extra=unset\n'), 'the deleted extra key', 20000);
    await stop(d);
  });

  it('follows a data file replaced by rename, again and again', async () => {
    const d = watchFile();
    await eventually(contentIs('out/app.conf', 'name=first port=80\n'), 'first render');
    for (const name of ['second', 'third', 'fourth']) {
      await replaceData(`app:\n  name: ${name}\n  port: "80"\n`);
      await eventually(contentIs('out/app.conf', `name=${name} port=80\n`), `${name} to be rendered`, 20000);
    }
    await stop(d);
  });

  it('runs a shared reload_cmd once per batch, and leaves resources whose keys did not change alone', async () => {
    const reload = (log: string) => `reload_cmd = "echo reloaded >> ${ws.path(log)}"\n`;
    await ws.write('conf.d/app.toml', resource('app.hbs', 'out/app.conf', reload('shared.log')));
    await ws.write('conf.d/app2.toml', resource('app.hbs', 'out/app2.conf', reload('shared.log')));
    await ws.write(
      'conf.d/other.toml',
      `[template]\nsrc = "other.hbs"\ndest = "${ws.path('out/other.conf')}"\nkeys = ["/other"]\n${reload('other.log')}`,
    );
    await ws.write('templates/other.hbs', 'other={{getv "/other/x" "none"}}\n');
    const d = watchFile();
    await eventually(async () => (await lines(ws.path('other.log'))) === 1, 'first render of every resource');
    await eventually(async () => (await lines(ws.path('shared.log'))) === 1, 'first shared reload');
    await replaceData('app:\n  name: second\n  port: "80"\n');
    await eventually(contentIs('out/app.conf', 'name=second port=80\n'), 'app.conf updated', 20000);
    await eventually(contentIs('out/app2.conf', 'name=second port=80\n'), 'app2.conf updated', 20000);
    await eventually(() => /2 resources: 2 updated/.test(d.output.stderr), 'the batch summary', 20000);
    await stop(d);
    expect(await lines(ws.path('shared.log'))).to.equal(2);
    expect(await lines(ws.path('other.log'))).to.equal(1);
  });

  it('lets the batch in flight finish on SIGTERM, leaves no stage file and exits 0', async () => {
    const marker = ws.path('check-started');
    await ws.write(
      'conf.d/app.toml',
      resource('app.hbs', 'out/app.conf', `check_cmd = "touch ${marker}; sleep 1"\n`),
    );
    const d = watchFile();
    await eventually(contentIs('out/app.conf', 'name=first port=80\n'), 'first render');
    await rm(marker);
    await replaceData('app:\n  name: second\n  port: "80"\n');
    await eventually(
      async () => (await readdir(ws.root)).includes('check-started'),
      'check_cmd to start',
      20000,
    );
    const result = await stop(d);
    expect(result.stderr).to.contain('SIGTERM received');
    expect(await read(ws.path('out/app.conf'))).to.equal('name=second port=80\n');
    expect(await readdir(ws.path('out'))).to.deep.equal(['app.conf']);
  });

  it('renders once with the env backend, then idles until SIGTERM and exits 0', async () => {
    await ws.write('templates/env.hbs', 'name={{getv "/app/name"}}\n');
    await ws.write(
      'conf.d/app.toml',
      resource('env.hbs', 'out/env.conf', `reload_cmd = "echo r >> ${ws.path('env.log')}"\n`),
    );
    daemon = startConfd(['-watch', '-backend', 'env', '-confdir', ws.root], {
      env: cleanEnv({ APP_NAME: 'from-env' }),
    });
    await eventually(contentIs('out/env.conf', 'name=from-env\n'), 'the env render');
    await eventually(() => /1 resource: 1 updated/.test(daemon?.output.stderr ?? ''), 'the batch summary');
    expect(daemon.child.exitCode).to.equal(null);
    const result = await stop(daemon);
    expect(result.stderr).not.to.match(/ERROR/);
    expect(await lines(ws.path('env.log'))).to.equal(1);
  });
});
