import { expect } from 'chai';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Tmpfs } from '../support/tmpfs.js';
import { eventually, startConfd, Workspace } from './support/confd-process.js';

const read = (path: string) => readFile(path, 'utf8').catch(() => '');

/**
 * A daemon whose destination filesystem runs out of space, or goes read-only: the error is reported, the
 * old file stays, and the resource's own retry succeeds once space is back, with no change in the store.
 */
describe('a full or read-only destination filesystem (end to end, watch mode, tmpfs)', function () {
  this.timeout(60_000);
  let fs: Tmpfs;
  let ws: Workspace;
  let daemon: ReturnType<typeof startConfd> | undefined;

  beforeEach(async () => {
    fs = await Tmpfs.mount('256k');
    ws = await Workspace.create();
    await ws.write('data.yaml', `app:\n  body: ${'a'.repeat(100)}\n`);
    await ws.write('templates/app.hbs', '{{getv "/app/body"}}\n');
    await ws.write(
      'conf.d/app.toml',
      `[template]\nsrc = "app.hbs"\ndest = "${fs.path('app.conf')}"\nkeys = ["/app"]\n`,
    );
  });

  afterEach(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
    await fs.remount('rw').catch(() => undefined);
    await fs.unmount();
    await ws.remove();
  });

  const start = () =>
    (daemon = startConfd(['-watch', '-backend', 'file', '-file', ws.path('data.yaml'), '-confdir', ws.root]));

  const stageFiles = async () => (await readdir(fs.dir)).filter((n) => n.endsWith('.confd-stage'));

  it('disk full: reports ENOSPC, keeps the old file, and its retry succeeds once space is back', async () => {
    const d = start();
    const old = `${'a'.repeat(100)}\n`;
    await eventually(async () => (await read(fs.path('app.conf'))) === old, 'the first render');
    await fs.fill('filler', 1024);
    await writeFile(ws.path('data.yaml'), `app:\n  body: ${'b'.repeat(50_000)}\n`);
    await eventually(() => /app\.conf: .*ENOSPC|no space left/i.test(d.output.stderr), 'the disk-full error');
    expect(await read(fs.path('app.conf'))).to.equal(old);
    expect(await stageFiles()).to.deep.equal([]);
    await rm(fs.path('filler'));
    await eventually(
      async () => (await read(fs.path('app.conf'))).startsWith('bbbb'),
      'the retry to succeed',
    );
    expect(await stageFiles()).to.deep.equal([]);
  });

  it('read-only: reports EROFS, keeps the old file, and succeeds once writable again', async () => {
    const d = start();
    const old = `${'a'.repeat(100)}\n`;
    await eventually(async () => (await read(fs.path('app.conf'))) === old, 'the first render');
    await fs.remount('ro');
    await writeFile(ws.path('data.yaml'), 'app:\n  body: after\n');
    await eventually(() => /app\.conf: .*(EROFS|read-only)/i.test(d.output.stderr), 'the read-only error');
    expect(await read(fs.path('app.conf'))).to.equal(old);
    await fs.remount('rw');
    await eventually(async () => (await read(fs.path('app.conf'))) === 'after\n', 'the retry to succeed');
  });
});
