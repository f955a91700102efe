import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { useStore } from '../integration/support/stores.js';
import { eventually, startConfd, Workspace } from './support/confd-process.js';
import {
  consulAdapter,
  etcdAdapter,
  redisAdapter,
  zookeeperAdapter,
  type WatchStoreAdapter,
} from './support/watch-store-adapters.js';

const read = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '');

const adapters: WatchStoreAdapter[] = [etcdAdapter(), redisAdapter(), zookeeperAdapter(), consulAdapter()];

for (const adapter of adapters) {
  describe(`watch mode (end to end, real ${adapter.name})`, function () {
    this.timeout(60_000);
    let endpoint: string;
    let ws: Workspace;
    let daemon: ReturnType<typeof startConfd> | undefined;
    // Every scenario writes under its own prefix, so scenarios and runs never see each other's keys.
    let P: string;

    before(async function () {
      this.timeout(180_000);
      ({ endpoint } = await useStore(adapter.name));
      await adapter.connect();
    });

    beforeEach(async () => {
      P = `/confd-e2e-watch-${randomBytes(4).toString('hex')}`;
      await adapter.prepare();
      await adapter.set(`${P}/app/name`, 'first');
      ws = await Workspace.create();
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
      await adapter.clear(P);
    });

    after(() => adapter.close());

    function watch(): ReturnType<typeof startConfd> {
      daemon = startConfd([
        '-watch',
        // The periodic resync is effectively off: only the watch can carry a change to the file.
        '-interval',
        '86400',
        ...adapter.extraArgs,
        '-backend',
        adapter.name,
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

    const fileHolds = (expected: string) => async () => (await read(ws.path('out/app.conf'))) === expected;

    it('renders at start, then carries an update to the destination', async () => {
      const d = watch();
      await eventually(fileHolds('name=first extra=unset\n'), 'first render', 20_000);
      await adapter.set(`${P}/app/name`, 'second');
      await eventually(fileHolds('name=second extra=unset\n'), 'the update to be rendered', 20_000);
      await stop(d);
    });

    it('renders a key created after start, and the default again once it is deleted', async () => {
      const d = watch();
      await eventually(fileHolds('name=first extra=unset\n'), 'first render', 20_000);
      await adapter.set(`${P}/app/extra`, 'added');
      await eventually(fileHolds('name=first extra=added\n'), 'the created key to be rendered', 20_000);
      await adapter.delete(`${P}/app/extra`);
      await eventually(fileHolds('name=first extra=unset\n'), 'the deletion to be rendered', 20_000);
      await stop(d);
    });

    it('ends with the last value after 200 rapid updates to one key', async () => {
      const d = watch();
      await eventually(fileHolds('name=first extra=unset\n'), 'first render', 20_000);
      await adapter.setRapidly(
        `${P}/app/name`,
        Array.from({ length: 200 }, (_, i) => `v${i + 1}`),
      );
      await eventually(fileHolds('name=v200 extra=unset\n'), 'the last update to be rendered', 20_000);
      await stop(d);
    });

    it(`converges after ${adapter.name} is killed and restarted while a key changes`, async function () {
      this.timeout(180_000);
      const d = watch();
      await eventually(fileHolds('name=first extra=unset\n'), 'first render', 20_000);
      await adapter.restartThenSet(`${P}/app/name`, 'after restart');
      // Reconnect backoff is capped at 30 s; the bound only guards against never converging.
      await eventually(fileHolds('name=after restart extra=unset\n'), 'the file to converge', 90_000);
      await adapter.prepare();
      await adapter.set(`${P}/app/name`, 'live again');
      await eventually(fileHolds('name=live again extra=unset\n'), 'the watch to work again', 90_000);
      await stop(d);
    });
  });
}
