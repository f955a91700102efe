import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { etcdWatcherCount } from '../integration/support/clusters.js';
import { useStore } from '../integration/support/stores.js';
import { eventually, startConfd, Workspace } from './support/confd-process.js';

// The scenarios every store shares are in watch-stores.test.ts; this one needs etcd's own metrics.
describe('watch mode (end to end, real etcd): one watcher per prefix', function () {
  this.timeout(60_000);
  let endpoint: string;
  let admin: Etcd3;
  let many: Workspace | undefined;
  let daemon: ReturnType<typeof startConfd> | undefined;
  const P = `/confd-e2e-watch-${randomBytes(4).toString('hex')}`;

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('etcd'));
    admin = new Etcd3({ hosts: `http://${endpoint}` });
  });

  afterEach(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
    await many?.remove();
    many = undefined;
  });

  after(async () => {
    await admin?.delete().prefix(P);
    admin?.close();
  });

  const read = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '');

  const watchers = (): Promise<number> => etcdWatcherCount(endpoint);

  it('keeps ONE etcd watch for 50 resources on one prefix, and an update still reaches its file', async () => {
    const ws = (many = await Workspace.create());
    for (let i = 0; i < 50; i++) {
      await admin.put(`${P}/many/r${i}`).value(`v${i}`);
      await ws.write(`templates/r${i}.hbs`, `{{getv "/r${i}" "unset"}}\n`);
      await ws.write(
        `conf.d/r${i}.toml`,
        `[template]\nprefix = "${P}/many"\nsrc = "r${i}.hbs"\n` +
          `dest = "${ws.path(`out/r${i}.conf`)}"\nkeys = ["/r${i}"]\n`,
      );
    }
    const before = await watchers();
    const d = (daemon = startConfd(['-watch', '-backend', 'etcd', '-node', endpoint, '-confdir', ws.root]));
    // Every one of them: resources render in name order (r49 before r5), so one file says nothing of the rest.
    const rendered = async (): Promise<boolean> => {
      for (let i = 0; i < 50; i++) if ((await read(ws.path(`out/r${i}.conf`))) !== `v${i}\n`) return false;
      return true;
    };
    await eventually(rendered, 'the resources to render', 20_000);
    expect(await watchers(), d.output.stderr).to.equal(before + 1);
    await admin.put(`${P}/many/r7`).value('updated');
    await eventually(
      async () => (await read(ws.path('out/r7.conf'))) === 'updated\n',
      'the update to be rendered',
      20_000,
    );
    expect(await read(ws.path('out/r8.conf'))).to.equal('v8\n');
    d.child.kill('SIGTERM');
    const result = await d.exited;
    expect(result.code, result.stderr).to.equal(0);
  });
});
