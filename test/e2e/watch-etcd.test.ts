import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { restartStore, useStore } from '../integration/support/stores.js';
import { eventually, startConfd, Workspace } from './support/confd-process.js';

const read = (path: string) => readFile(path, 'utf8').catch(() => '');

describe('watch mode (end to end, real etcd)', function () {
  this.timeout(60_000);
  let endpoint: string;
  let admin: Etcd3;
  let ws: Workspace;
  let daemon: ReturnType<typeof startConfd> | undefined;
  const P = `/confd-e2e-watch-${randomBytes(4).toString('hex')}`;

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('etcd'));
    admin = new Etcd3({ hosts: `http://${endpoint}` });
  });

  beforeEach(async () => {
    ws = await Workspace.create();
    await admin.delete().prefix(P);
    await admin.put(`${P}/app/name`).value('first');
    await ws.write('templates/app.hbs', 'name={{getv "/app/name"}} extra={{getv "/app/extra" "unset"}}\n');
    await ws.write(
      'conf.d/app.toml',
      `[template]\nprefix = "${P}"\nsrc = "app.hbs"\ndest = "${ws.path('out/app.conf')}"\nkeys = ["/app"]\n`,
    );
  });

  afterEach(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
    await ws.remove();
  });

  after(async () => {
    await admin?.delete().prefix(P);
    admin?.close();
  });

  function watchEtcd(): ReturnType<typeof startConfd> {
    daemon = startConfd(['-watch', '-backend', 'etcd', '-node', endpoint, '-confdir', ws.root]);
    return daemon;
  }

  async function stop(d: ReturnType<typeof startConfd>): Promise<void> {
    d.child.kill('SIGTERM');
    const result = await d.exited;
    expect(result.code, result.stderr).to.equal(0);
  }

  const contentIs = (expected: string) => async () => (await read(ws.path('out/app.conf'))) === expected;

  it('renders at start, then carries an update to the destination', async () => {
    const d = watchEtcd();
    await eventually(contentIs('name=first extra=unset\n'), 'first render', 20_000);
    await admin.put(`${P}/app/name`).value('second');
    await eventually(contentIs('name=second extra=unset\n'), 'the update to be rendered', 20_000);
    await stop(d);
  });

  it('renders a key created after start, and the default again once it is deleted', async () => {
    const d = watchEtcd();
    await eventually(contentIs('name=first extra=unset\n'), 'first render', 20_000);
    await admin.put(`${P}/app/extra`).value('added');
    await eventually(contentIs('name=first extra=added\n'), 'the created key to be rendered', 20_000);
    await admin.delete().key(`${P}/app/extra`);
    await eventually(contentIs('name=first extra=unset\n'), 'the deletion to be rendered', 20_000);
    await stop(d);
  });

  it('ends with the last value after 200 rapid updates to one key', async () => {
    const d = watchEtcd();
    await eventually(contentIs('name=first extra=unset\n'), 'first render', 20_000);
    for (let i = 1; i <= 200; i++) await admin.put(`${P}/app/name`).value(`v${i}`);
    await eventually(contentIs('name=v200 extra=unset\n'), 'the last update to be rendered', 20_000);
    await stop(d);
  });

  it('keeps ONE etcd watch for 50 resources on one prefix, and an update still reaches its file', async () => {
    const watchers = async (): Promise<number> => {
      const text = await (await fetch(`http://${endpoint}/metrics`)).text();
      const match = /^etcd_debugging_mvcc_watcher_total (\d+)$/m.exec(text);
      if (!match) throw new Error('etcd /metrics has no etcd_debugging_mvcc_watcher_total');
      return Number(match[1]);
    };
    const many = await Workspace.create();
    try {
      for (let i = 0; i < 50; i++) {
        await admin.put(`${P}/many/r${i}`).value(`v${i}`);
        await many.write(`templates/r${i}.hbs`, `{{getv "/r${i}" "unset"}}\n`);
        await many.write(
          `conf.d/r${i}.toml`,
          `[template]\nprefix = "${P}/many"\nsrc = "r${i}.hbs"\n` +
            `dest = "${many.path(`out/r${i}.conf`)}"\nkeys = ["/r${i}"]\n`,
        );
      }
      const before = await watchers();
      const d = startConfd(['-watch', '-backend', 'etcd', '-node', endpoint, '-confdir', many.root]);
      daemon = d;
      await eventually(
        async () => (await read(many.path('out/r49.conf'))) === 'v49\n',
        'the resources to render',
        20_000,
      );
      expect(await watchers(), d.output.stderr).to.equal(before + 1);
      await admin.put(`${P}/many/r7`).value('updated');
      await eventually(
        async () => (await read(many.path('out/r7.conf'))) === 'updated\n',
        'the update to be rendered',
        20_000,
      );
      expect(await read(many.path('out/r8.conf'))).to.equal('v8\n');
      await stop(d);
    } finally {
      await many.remove();
    }
  });

  it('converges after etcd is killed and restarted while a key changes', async function () {
    this.timeout(180_000);
    const d = watchEtcd();
    await eventually(contentIs('name=first extra=unset\n'), 'first render', 20_000);
    await restartStore('etcd', 2);
    const writer = new Etcd3({ hosts: `http://${endpoint}` });
    try {
      await writer.put(`${P}/app/name`).value('after restart');
    } finally {
      writer.close();
    }
    // Reconnect backoff is capped at 30 s; the bound only guards against never converging.
    await eventually(contentIs('name=after restart extra=unset\n'), 'the file to converge', 90_000);
    await admin.put(`${P}/app/name`).value('live again');
    await eventually(contentIs('name=live again extra=unset\n'), 'the watch to work again', 90_000);
    await stop(d);
  });
});
