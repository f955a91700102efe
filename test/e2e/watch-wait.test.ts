import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { eventually, startConfd, Workspace } from './support/confd-process.js';

const read = (path: string) => readFile(path, 'utf8').catch(() => '');

describe('watch mode with -wait (end to end, file backend)', function () {
  this.timeout(60_000);
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create();
  });
  afterEach(() => ws.remove());

  it('turns a burst of store changes into one render and one reload', async () => {
    const log = ws.path('reload.log');
    await ws.write('data.yaml', 'app:\n  name: v0\n');
    await ws.write('templates/app.hbs', 'name={{getv "/app/name"}}\n');
    await ws.write(
      'conf.d/app.toml',
      `[template]\nsrc = "app.hbs"\ndest = "${ws.path('out/app.conf')}"\nkeys = ["/app"]\nreload_cmd = "echo reload >> ${log}"\n`,
    );
    // A window far wider than the burst takes, so the burst cannot straddle two renders.
    const daemon = startConfd(['-watch', '-wait', '3s:20s', ...ws.fileBackendArgs()]);
    try {
      await eventually(async () => (await read(ws.path('out/app.conf'))) === 'name=v0\n', 'first render');
      await eventually(async () => (await read(log)) === 'reload\n', 'the first reload');
      for (let i = 1; i <= 5; i++) await ws.write('data.yaml', `app:\n  name: v${i}\n`);
      await eventually(
        async () => (await read(log)) === 'reload\nreload\n',
        'one reload for the burst',
        30_000,
      );
      expect(await read(ws.path('out/app.conf'))).to.equal('name=v5\n');
    } finally {
      daemon.child.kill('SIGTERM');
    }
    const result = await daemon.exited;
    expect(result.code, result.stderr).to.equal(0);
    expect(await read(log)).to.equal('reload\nreload\n');
  });
});
