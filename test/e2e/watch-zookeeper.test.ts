import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import zookeeper from 'node-zookeeper-client';
import type { Client as ZkLibClient } from 'node-zookeeper-client';
import { restartStore, useStore } from '../integration/support/stores.js';
import { eventually, startConfd, Workspace } from './support/confd-process.js';

const read = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '');

/** The store's own client: creates (with parents) or updates a node, ignoring nothing. */
class Fixture {
  private constructor(private readonly client: ZkLibClient) {}

  static async connect(endpoint: string): Promise<Fixture> {
    const client = zookeeper.createClient(endpoint, { retries: 2 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fixture client cannot reach ${endpoint}`)), 10_000);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.connect();
    });
    return new Fixture(client);
  }

  async put(path: string, value: string): Promise<void> {
    const parent = path.slice(0, path.lastIndexOf('/'));
    await new Promise<void>((resolve, reject) =>
      this.client.mkdirp(parent, (err) => (err ? reject(err) : resolve())),
    );
    await new Promise<void>((resolve, reject) =>
      this.client.create(path, Buffer.from(value), (err) => {
        if (!err) return resolve();
        if ((err as { code?: number }).code !== zookeeper.Exception.NODE_EXISTS) return reject(err);
        this.client.setData(path, Buffer.from(value), (setErr) => (setErr ? reject(setErr) : resolve()));
      }),
    );
  }

  setData(path: string, value: string): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.client.setData(path, Buffer.from(value), (err) => (err ? reject(err) : resolve())),
    );
  }

  async remove(path: string): Promise<void> {
    const children = await new Promise<string[]>((resolve, reject) =>
      this.client.getChildren(path, (err, list) => {
        if (!err) return resolve(list);
        if ((err as { code?: number }).code === zookeeper.Exception.NO_NODE) return resolve([]);
        reject(err);
      }),
    );
    for (const child of children) await this.remove(`${path}/${child}`);
    await new Promise<void>((resolve, reject) =>
      this.client.remove(path, (err) =>
        !err || (err as { code?: number }).code === zookeeper.Exception.NO_NODE ? resolve() : reject(err),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}

describe('watch mode with ZooKeeper (end to end, real server)', function () {
  this.timeout(60_000);

  let endpoint: string;
  let fixture: Fixture;
  let ws: Workspace;
  let daemon: ReturnType<typeof startConfd> | undefined;
  let root: string;

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('zookeeper'));
    fixture = await Fixture.connect(endpoint);
  });

  after(() => fixture?.close());

  beforeEach(async () => {
    root = `/confd-e2e-${randomBytes(4).toString('hex')}`;
    await fixture.put(`${root}/app/name`, 'first');
    ws = await Workspace.create();
    await ws.write('templates/app.hbs', 'name={{getv "/app/name"}} port={{getv "/app/port" "none"}}\n');
    await ws.write(
      'conf.d/app.toml',
      `[template]\nsrc = "app.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "${root}"\nkeys = ["/app"]\n`,
    );
  });

  afterEach(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
    await ws.remove();
    await fixture.remove(root);
  });

  function watch(): ReturnType<typeof startConfd> {
    daemon = startConfd(['-watch', '-backend', 'zookeeper', '-node', endpoint, '-confdir', ws.root]);
    return daemon;
  }

  async function stop(d: ReturnType<typeof startConfd>): Promise<void> {
    d.child.kill('SIGTERM');
    const result = await d.exited;
    expect(result.code, result.stderr).to.equal(0);
  }

  const fileHolds = (expected: string) => async () => (await read(ws.path('out/app.conf'))) === expected;

  it('carries an update to the destination file', async () => {
    const d = watch();
    await eventually(fileHolds('name=first port=none\n'), 'the first render', 20_000);
    await fixture.setData(`${root}/app/name`, 'second');
    await eventually(fileHolds('name=second port=none\n'), 'the update to be rendered', 20_000);
    await stop(d);
  });

  it('renders a key created after start', async () => {
    const d = watch();
    await eventually(fileHolds('name=first port=none\n'), 'the first render', 20_000);
    await fixture.put(`${root}/app/port`, '8080');
    await eventually(fileHolds('name=first port=8080\n'), 'the new key to be rendered', 20_000);
    await stop(d);
  });

  it('ends with the file holding the last of 200 rapid updates', async () => {
    const d = watch();
    await eventually(fileHolds('name=first port=none\n'), 'the first render', 20_000);
    // Back to back on one session: ZooKeeper applies them in order, so v199 is the last.
    await Promise.all(Array.from({ length: 200 }, (_, i) => fixture.setData(`${root}/app/name`, `v${i}`)));
    await eventually(fileHolds('name=v199 port=none\n'), 'the last update to be rendered', 20_000);
    await stop(d);
  });

  it('converges after the server is restarted (with its data) while the key changes', async function () {
    this.timeout(120_000);
    const d = watch();
    await eventually(fileHolds('name=first port=none\n'), 'the first render', 20_000);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i += 1) {
        await fixture.setData(`${root}/app/name`, `w${i}`).catch(() => sleep(50));
      }
    })();
    try {
      await sleep(200);
      ({ endpoint } = await restartStore('zookeeper', 1));
      await sleep(200);
    } finally {
      writing = false;
      await writer;
    }
    await eventually(
      () =>
        fixture.setData(`${root}/app/name`, 'final').then(
          () => true,
          () => false,
        ),
      'the fixture client to write again',
      60_000,
    );
    await eventually(fileHolds('name=final port=none\n'), 'the file to converge', 60_000);
    await stop(d);
  });
});
