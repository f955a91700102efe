import { expect } from 'chai';
import { cleanEnv, confdBin, Workspace } from '../e2e/support/confd-process.js';
import { runRecordingCodeCaches } from '../support/code-caches.js';
import { useStore, type StoreName } from './support/stores.js';

const node: Record<StoreName, (endpoint: string) => string> = {
  etcd: (endpoint) => `http://${endpoint}`,
  consul: (endpoint) => endpoint,
  redis: (endpoint) => endpoint,
  zookeeper: (endpoint) => endpoint,
};

// The build trains the bundle's cache of each store against a stand-in (scripts/training-stores.mjs), and
// the Redis and ZooKeeper client libraries' under a -onetime run's V8 flags (scripts/code-cache.mjs): a
// run against the real server takes them all.
describe('code caches of a -onetime run on each store (real stores)', function () {
  this.timeout(120_000);
  let ws: Workspace;

  before(async () => {
    ws = await Workspace.create();
    await ws.write('templates/t.tmpl', '{{range gets "/code-cache/*"}}{{.Key}}\n{{end}}');
    await ws.write(
      'conf.d/t.toml',
      `[template]\nsrc = "t.tmpl"\ndest = "${ws.path('out/t.conf')}"\nkeys = ["/code-cache"]\n`,
    );
  });

  after(() => ws.remove());

  const expected: Record<StoreName, Record<string, string | null>> = {
    etcd: { 'confd.cjs': 'confd.etcd.cache' },
    consul: { 'confd.cjs': 'confd.consul.cache' },
    redis: { 'confd.cjs': 'confd.redis.cache', 'ioredis.cjs': 'ioredis.cache' },
    zookeeper: {
      'confd.cjs': 'confd.zookeeper.cache',
      'node-zookeeper-client.cjs': 'node-zookeeper-client.cache',
    },
  };

  for (const store of ['etcd', 'consul', 'redis', 'zookeeper'] as const) {
    it(`${store}: ${Object.values(expected[store])
      .map((cache) => cache ?? 'no cache')
      .join(', ')}`, async () => {
      const { endpoint } = await useStore(store);
      const args = ['-onetime', '-backend', store, '-node', node[store](endpoint), '-confdir', ws.root];
      const run = runRecordingCodeCaches(
        confdBin,
        [...args, '-config-file', '', '-log-level', 'error'],
        cleanEnv(),
      );
      expect(run.status, run.stderr).to.equal(0);
      expect(run.caches).to.deep.equal(expected[store]);
    });
  }
});
