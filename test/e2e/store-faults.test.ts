import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { useStore, type RunningStore } from '../integration/support/stores.js';
import { eventually, runConfd, startConfd, Workspace } from './support/confd-process.js';
import { endpointOf, get, metricsUntil, sample } from './support/endpoints.js';
import { etcdAdapter, zookeeperAdapter, type WatchStoreAdapter } from './support/watch-store-adapters.js';

const read = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '');

/**
 * A store that hangs (SIGSTOP: the socket stays open, nothing answers), as opposed to one that refuses.
 * Bounded under it: -onetime fails within its timeouts naming the store; -watch keeps serving /healthz,
 * shows the store down, keeps its memory, and converges once the store is continued.
 */
for (const adapter of [etcdAdapter(), zookeeperAdapter()] as WatchStoreAdapter[]) {
  describe(`a hanging store (end to end, real ${adapter.name}, SIGSTOP)`, function () {
    this.timeout(120_000);
    let store: RunningStore;
    let ws: Workspace;
    let daemon: ReturnType<typeof startConfd> | undefined;
    let P: string;
    let stopped = false;

    const freeze = (): void => {
      process.kill(store.pid, 'SIGSTOP');
      stopped = true;
    };
    const thaw = (): void => {
      if (stopped) process.kill(store.pid, 'SIGCONT');
      stopped = false;
    };

    before(async function () {
      this.timeout(180_000);
      store = await useStore(adapter.name);
      await adapter.connect();
    });

    beforeEach(async () => {
      P = `/confd-e2e-hang-${randomBytes(4).toString('hex')}`;
      await adapter.prepare();
      await adapter.set(`${P}/app/name`, 'first');
      ws = await Workspace.create();
      await ws.write('templates/app.hbs', 'name={{getv "/app/name"}}\n');
      await ws.write(
        'conf.d/app.toml',
        `[template]\nprefix = "${P}"\nsrc = "app.hbs"\ndest = "${ws.path('out/app.conf')}"\nkeys = ["/app"]\n`,
      );
    });

    afterEach(async () => {
      thaw();
      if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      }
      daemon = undefined;
      await ws.remove();
    });

    after(() => adapter.close());

    const common = () => [
      '-backend',
      adapter.name,
      '-node',
      store.endpoint,
      '-confdir',
      ws.root,
      '-connect-timeout',
      '1s',
      '-request-timeout',
      '1s',
      ...adapter.extraArgs,
    ];

    it('-onetime fails within its timeouts with an error naming the store, and touches no file', async () => {
      freeze();
      const result = await runConfd(['-onetime', ...common()]);
      thaw();
      expect(result.code).to.equal(1);
      expect(result.stderr).to.include(adapter.name);
      expect(result.stderr, result.stderr).to.match(
        /within 1000 ms|no answer|Deadline exceeded|within 1 ?s/i,
      );
      expect(await read(ws.path('out/app.conf'))).to.equal('');
    });

    it('-watch keeps /healthz up, shows the store down with bounded memory, and converges after SIGCONT', async () => {
      daemon = startConfd(['-watch', '-interval', '86400', '-metrics-addr', '127.0.0.1:0', ...common()]);
      const address = await endpointOf(daemon);
      await eventually(
        async () => (await read(ws.path('out/app.conf'))) === 'name=first\n',
        'the first render',
      );
      const before = sample((await get(address, '/metrics')).body, 'process_resident_memory_bytes') ?? 0;

      freeze();
      await metricsUntil(address, (t) => sample(t, 'confd_backend_up') === 0, 'the store shown down');
      expect((await get(address, '/healthz')).status).to.equal(200);
      const ready = await get(address, '/readyz');
      expect(ready.status).to.equal(503);
      expect(ready.body).to.include(adapter.name);
      // Several more probes time out while it hangs; memory must not grow with them.
      const failedPings = (t: string) =>
        sample(t, 'confd_backend_requests_total', { backend: adapter.name, op: 'ping', result: 'error' }) ??
        0;
      const first = failedPings((await get(address, '/metrics')).body);
      const text = await metricsUntil(address, (t) => failedPings(t) >= first + 5, 'five more failed pings');
      const during = sample(text, 'process_resident_memory_bytes') ?? 0;
      expect(during - before, 'RSS growth while the store hangs').to.be.below(32 * 1024 * 1024);

      thaw();
      await metricsUntil(address, (t) => sample(t, 'confd_backend_up') === 1, 'the store shown up again');
      await adapter.set(`${P}/app/name`, 'after-the-hang');
      await eventually(
        async () => (await read(ws.path('out/app.conf'))) === 'name=after-the-hang\n',
        'a change after SIGCONT rendered',
      );
      daemon.child.kill('SIGTERM');
      expect((await daemon.exited).code).to.equal(0);
    });
  });
}
