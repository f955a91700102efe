import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import Consul from 'consul';
import { restartStore, useStore } from '../integration/support/stores.js';
import { eventually, startConfd, Workspace } from './support/confd-process.js';

const read = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '');

describe('watch mode with Consul (end to end, real agent)', function () {
  this.timeout(60_000);

  let endpoint: string;
  let kv: Consul;
  let ws: Workspace;
  let daemon: ReturnType<typeof startConfd> | undefined;
  let top: string;

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('consul'));
    const at = endpoint.lastIndexOf(':');
    kv = new Consul({ host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) });
  });

  after(() => kv?.destroy());

  beforeEach(async () => {
    top = `confd-e2e-${randomBytes(4).toString('hex')}`;
    await kv.kv.set(`${top}/app/name`, 'first');
    ws = await Workspace.create();
    await ws.write('templates/app.hbs', 'name={{getv "/app/name"}} port={{getv "/app/port" "none"}}\n');
    await ws.write(
      'conf.d/app.toml',
      `[template]\nsrc = "app.hbs"\ndest = "${ws.path('out/app.conf')}"\nprefix = "/${top}"\nkeys = ["/app"]\n`,
    );
  });

  afterEach(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
    await ws.remove();
    await kv.kv.del({ key: `${top}/`, recurse: true }).catch(() => undefined);
  });

  function watch(): ReturnType<typeof startConfd> {
    daemon = startConfd(['-watch', '-backend', 'consul', '-node', endpoint, '-confdir', ws.root]);
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
    await kv.kv.set(`${top}/app/name`, 'second');
    await eventually(fileHolds('name=second port=none\n'), 'the update to be rendered', 20_000);
    await stop(d);
  });

  it('renders a key created after start', async () => {
    const d = watch();
    await eventually(fileHolds('name=first port=none\n'), 'the first render', 20_000);
    await kv.kv.set(`${top}/app/port`, '8080');
    await eventually(fileHolds('name=first port=8080\n'), 'the new key to be rendered', 20_000);
    await stop(d);
  });

  it('ends with the file holding the last of 200 rapid updates', async () => {
    const d = watch();
    await eventually(fileHolds('name=first port=none\n'), 'the first render', 20_000);
    for (let i = 0; i < 200; i += 1) await kv.kv.set(`${top}/app/name`, `v${i}`);
    await eventually(fileHolds('name=v199 port=none\n'), 'the last update to be rendered', 20_000);
    await stop(d);
  });

  it('converges after the agent is restarted (dev mode: data gone) while the key changes', async function () {
    this.timeout(120_000);
    const d = watch();
    await eventually(fileHolds('name=first port=none\n'), 'the first render', 20_000);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i += 1) {
        await kv.kv.set(`${top}/app/name`, `w${i}`).catch(() => sleep(50));
      }
    })();
    try {
      await sleep(200);
      await restartStore('consul', 1);
      await sleep(200);
    } finally {
      writing = false;
      await writer;
    }
    await eventually(
      () =>
        kv.kv.set(`${top}/app/name`, 'final').then(
          (ok) => ok === true,
          () => false,
        ),
      'the agent to take writes again',
      60_000,
    );
    await eventually(fileHolds('name=final port=none\n'), 'the file to converge', 60_000);
    await stop(d);
  });
});
