import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { restartStore, useStore } from '../integration/support/stores.js';
import { eventually, startConfd, Workspace } from './support/confd-process.js';

const read = (path: string) => readFile(path, 'utf8').catch(() => '');

describe('watch mode (end to end, real redis)', function () {
  this.timeout(60_000);
  let endpoint: string;
  let admin: Redis;
  let originalEvents: string;
  let ws: Workspace;
  let daemon: ReturnType<typeof startConfd> | undefined;
  const P = `/confd-e2e-watch-${randomBytes(4).toString('hex')}`;

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('redis'));
    admin = await connectAdmin();
    originalEvents = ((await admin.config('GET', 'notify-keyspace-events')) as string[])[1] ?? '';
  });

  function connectAdmin(): Promise<Redis> {
    const [host, port] = endpoint.split(':');
    const conn = new Redis({ host, port: Number(port), lazyConnect: true, maxRetriesPerRequest: 1 });
    conn.on('error', () => undefined);
    return conn.connect().then(() => conn);
  }

  async function clear(): Promise<void> {
    const names = await admin.keys(`${P}*`);
    if (names.length > 0) await admin.del(...names);
  }

  beforeEach(async () => {
    ws = await Workspace.create();
    await admin.config('SET', 'notify-keyspace-events', 'KA');
    await clear();
    await admin.set(`${P}/app/name`, 'first');
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
    if (!admin) return;
    await clear();
    await admin.config('SET', 'notify-keyspace-events', originalEvents);
    admin.disconnect();
  });

  // -interval 1: with keyspace notifications off (a restarted test server), the backend polls at -interval.
  function watchRedis(): ReturnType<typeof startConfd> {
    daemon = startConfd([
      '-watch',
      '-interval',
      '1',
      '-backend',
      'redis',
      '-node',
      endpoint,
      '-confdir',
      ws.root,
    ]);
    return daemon;
  }

  async function stop(d: ReturnType<typeof startConfd>): Promise<void> {
    d.child.kill('SIGTERM');
    const result = await d.exited;
    expect(result.code, result.stderr).to.equal(0);
  }

  const contentIs = (expected: string) => async () => (await read(ws.path('out/app.conf'))) === expected;

  it('renders at start, then carries an update to the destination', async () => {
    const d = watchRedis();
    await eventually(contentIs('name=first extra=unset\n'), 'first render', 20_000);
    await admin.set(`${P}/app/name`, 'second');
    await eventually(contentIs('name=second extra=unset\n'), 'the update to be rendered', 20_000);
    await stop(d);
  });

  it('renders a key created after start, and the default again once it is deleted', async () => {
    const d = watchRedis();
    await eventually(contentIs('name=first extra=unset\n'), 'first render', 20_000);
    await admin.set(`${P}/app/extra`, 'added');
    await eventually(contentIs('name=first extra=added\n'), 'the created key to be rendered', 20_000);
    await admin.del(`${P}/app/extra`);
    await eventually(contentIs('name=first extra=unset\n'), 'the deletion to be rendered', 20_000);
    await stop(d);
  });

  it('ends with the last value after 200 rapid updates to one key', async () => {
    const d = watchRedis();
    await eventually(contentIs('name=first extra=unset\n'), 'first render', 20_000);
    for (let i = 1; i <= 200; i++) await admin.set(`${P}/app/name`, `v${i}`);
    await eventually(contentIs('name=v200 extra=unset\n'), 'the last update to be rendered', 20_000);
    await stop(d);
  });

  it('converges after Redis is killed and restarted while a key changes', async function () {
    this.timeout(180_000);
    const d = watchRedis();
    await eventually(contentIs('name=first extra=unset\n'), 'first render', 20_000);
    await restartStore('redis', 2);
    admin.disconnect();
    admin = await connectAdmin();
    // The restarted server has no data (no persistence in tests) and its notifications are off again:
    // confd-ts polls until they are back on, then subscribes again on its next re-arm.
    await admin.set(`${P}/app/name`, 'after restart');
    await eventually(contentIs('name=after restart extra=unset\n'), 'the file to converge', 90_000);
    await admin.config('SET', 'notify-keyspace-events', 'KA');
    await admin.set(`${P}/app/name`, 'live again');
    await eventually(contentIs('name=live again extra=unset\n'), 'the watch to work again', 90_000);
    await stop(d);
  });
});
