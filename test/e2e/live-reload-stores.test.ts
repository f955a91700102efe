import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { expect } from 'chai';
import { useStore } from '../integration/support/stores.js';
import { eventually, startConfd, Workspace } from './support/confd-process.js';
import { endpointOf, get, metricsUntil, sample } from './support/endpoints.js';
import { etcdAdapter, zookeeperAdapter, type WatchStoreAdapter } from './support/watch-store-adapters.js';

const read = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '');

interface StatusWatch {
  prefix: string;
  state: string;
}

/** conf.d edited on disk while `confd -watch` follows a real store: watches come and go with resources. */
for (const adapter of [etcdAdapter(), zookeeperAdapter()] as WatchStoreAdapter[]) {
  describe(`live reload (end to end, real ${adapter.name})`, function () {
    this.timeout(90_000);
    let endpoint: string;
    let ws: Workspace;
    let daemon: ReturnType<typeof startConfd> | undefined;
    let P: string;

    before(async function () {
      this.timeout(180_000);
      ({ endpoint } = await useStore(adapter.name));
      await adapter.connect();
    });

    beforeEach(async () => {
      P = `/confd-e2e-reload-${randomBytes(4).toString('hex')}`;
      await adapter.prepare();
      await adapter.set(`${P}/a/name`, 'a1');
      await adapter.set(`${P}/b/name`, 'b1');
      ws = await Workspace.create();
      await ws.write('templates/t.hbs', 'name={{getv "/name"}}\n');
      await ws.write('conf.d/a.toml', resource('a'));
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

    function resource(name: string): string {
      return `[template]\nprefix = "${P}/${name}"\nsrc = "t.hbs"\ndest = "${ws.path(`out/${name}.conf`)}"\nkeys = ["/name"]\n`;
    }

    const watchedPrefixes = async (address: string): Promise<string[]> => {
      const status = JSON.parse((await get(address, '/status')).body) as {
        resources: { watch: StatusWatch[] }[];
      };
      return [...new Set(status.resources.flatMap((r) => r.watch.map((w) => w.prefix)))].sort();
    };

    it('a resource added on disk gets its watch and renders; a removed one releases it; the rest carry on', async () => {
      daemon = startConfd([
        '-watch',
        '-interval',
        '86400',
        '-backend',
        adapter.name,
        '-node',
        endpoint,
        '-confdir',
        ws.root,
        '-metrics-addr',
        '127.0.0.1:0',
        ...adapter.extraArgs,
      ]);
      const address = await endpointOf(daemon);
      await eventually(async () => (await read(ws.path('out/a.conf'))) === 'name=a1\n', 'a rendered');

      await ws.write('conf.d/b.toml', resource('b'));
      await eventually(
        async () => (await read(ws.path('out/b.conf'))) === 'name=b1\n',
        'b rendered after the edit',
      );
      expect(await watchedPrefixes(address)).to.deep.equal([`${P}/a`, `${P}/b`]);
      await adapter.set(`${P}/b/name`, 'b2');
      await eventually(
        async () => (await read(ws.path('out/b.conf'))) === 'name=b2\n',
        'b follows its store',
      );

      await rm(ws.path('conf.d/b.toml'));
      await metricsUntil(address, (t) => sample(t, 'confd_resources') === 1, 'b removed');
      expect(await watchedPrefixes(address)).to.deep.equal([`${P}/a`]);
      await adapter.set(`${P}/b/name`, 'b3');
      await adapter.set(`${P}/a/name`, 'a2');
      await eventually(async () => (await read(ws.path('out/a.conf'))) === 'name=a2\n', 'a still follows');
      expect(await read(ws.path('out/b.conf'))).to.equal('name=b2\n');
      expect(daemon.output.stderr).to.match(
        /configuration reloaded \(files\): 1 resources, 0 added, 1 removed/,
      );
      daemon.child.kill('SIGTERM');
      expect((await daemon.exited).code).to.equal(0);
    });
  });
}
