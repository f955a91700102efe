import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import { eventually, startConfd, Workspace } from './support/confd-process.js';

describe('interval mode (end to end)', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create();
    await ws.write('data.yaml', 'app:\n  name: first\n');
    await ws.write('templates/app.hbs', 'name={{getv "/app/name"}}\n');
    await ws.write(
      'conf.d/app.toml',
      `[template]\nsrc = "app.hbs"\ndest = "${ws.path('out/app.conf')}"\nkeys = ["/app"]\n`,
    );
  });
  afterEach(() => ws.remove());

  const read = (p: string) => readFile(p, 'utf8').catch(() => '');

  it('re-renders on every pass, re-reads conf.d, and exits 0 on SIGTERM leaving no stage file', async () => {
    const daemon = startConfd(['-interval', '1', ...ws.fileBackendArgs()]);
    try {
      await eventually(async () => (await read(ws.path('out/app.conf'))) === 'name=first\n', 'first render');
      await ws.write('data.yaml', 'app:\n  name: second\n');
      await eventually(
        async () => (await read(ws.path('out/app.conf'))) === 'name=second\n',
        'store change picked up',
      );
      // A resource added while running is picked up on a later pass.
      await ws.write(
        'conf.d/extra.toml',
        `[template]\nsrc = "app.hbs"\ndest = "${ws.path('out/extra.conf')}"\nkeys = ["/app"]\n`,
      );
      await eventually(
        async () => (await read(ws.path('out/extra.conf'))) === 'name=second\n',
        'new resource rendered',
      );
    } finally {
      daemon.child.kill('SIGTERM');
    }
    const result = await daemon.exited;
    expect(result.code, result.stderr).to.equal(0);
    expect((await readdir(ws.path('out'))).sort()).to.deep.equal(['app.conf', 'extra.conf']);
  });

  it('keeps running after a failing pass and exits 0 on SIGINT', async () => {
    await ws.write('templates/app.hbs', 'name={{getv "/app/missing"}}\n');
    const daemon = startConfd(['-interval', '1', ...ws.fileBackendArgs()]);
    try {
      await eventually(() => /missing/.test(daemon.output.stderr), 'the error to be logged');
      await ws.write('templates/app.hbs', 'fixed={{getv "/app/name"}}\n');
      await eventually(
        async () => (await read(ws.path('out/app.conf'))) === 'fixed=first\n',
        'recovery after fixing the template',
      );
    } finally {
      daemon.child.kill('SIGINT');
    }
    const result = await daemon.exited;
    expect(result.code, result.stderr).to.equal(0);
  });
});
