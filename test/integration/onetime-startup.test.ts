import { expect } from 'chai';
import { cleanEnv, confdBin, Workspace } from '../e2e/support/confd-process.js';
import { runRecordingCodeCaches } from '../support/code-caches.js';
import { runRecordingV8Flags } from '../support/v8-flags.js';
import { useStore, type StoreName } from './support/stores.js';

/** How each backend is pointed at its server. */
const node: Record<StoreName, (endpoint: string) => string> = {
  etcd: (endpoint) => `http://${endpoint}`,
  consul: (endpoint) => endpoint,
  redis: (endpoint) => endpoint,
  zookeeper: (endpoint) => endpoint,
};

/**
 * The cache V8 takes for each script of dist/ in a run on each store. The build trains the bundle's cache
 * of each store against a stand-in (scripts/training-stores.mjs), and the Redis and ZooKeeper client
 * libraries' under a -onetime run's V8 flags (scripts/code-cache.mjs): a run against the real server takes
 * them all.
 */
const expectedCaches: Record<StoreName, Record<string, string | null>> = {
  etcd: { 'confd.cjs': 'confd.etcd.cache' },
  consul: { 'confd.cjs': 'confd.consul.cache' },
  redis: { 'confd.cjs': 'confd.redis.cache', 'ioredis.cjs': 'ioredis.cache' },
  zookeeper: {
    'confd.cjs': 'confd.zookeeper.cache',
    'node-zookeeper-client.cjs': 'node-zookeeper-client.cache',
  },
};

describe('start-up of a -onetime run on each store (real stores)', function () {
  this.timeout(120_000);
  let ws: Workspace;

  before(async () => {
    ws = await Workspace.create();
    await ws.write('templates/t.tmpl', '{{range gets "/v8-tuning/*"}}{{.Key}}\n{{end}}');
    await ws.write(
      'conf.d/t.toml',
      `[template]\nsrc = "t.tmpl"\ndest = "${ws.path('out/t.conf')}"\nkeys = ["/v8-tuning"]\n`,
    );
  });

  after(() => ws.remove());

  const runArgs = async (store: StoreName): Promise<string[]> => {
    const { endpoint } = await useStore(store);
    return [
      '-onetime',
      '-backend',
      store,
      '-node',
      node[store](endpoint),
      '-confdir',
      ws.root,
      '-config-file',
      '',
    ];
  };

  for (const store of ['etcd', 'consul', 'redis', 'zookeeper'] as const) {
    // A run on a store loads the built-in modules its client needs (node:http2 and node:tls for etcd,
    // node:net, node:dns...) before its V8 flags, which would make Node.js compile them from source.
    it(`${store}: sets its flags once the Node.js modules of its client are loaded`, async () => {
      const report = runRecordingV8Flags(confdBin, await runArgs(store), cleanEnv());
      expect(report.status, report.stderr).to.equal(0);
      expect(report.flags).to.deep.equal(['--semi-space-growth-factor=1', '--max-opt=1', '--expose-gc']);
      expect(report.builtins).to.deep.equal([]);
    });

    it(`${store}: reads ${Object.values(expectedCaches[store])
      .map((cache) => cache ?? 'no cache')
      .join(', ')}`, async () => {
      const run = runRecordingCodeCaches(
        confdBin,
        [...(await runArgs(store)), '-log-level', 'error'],
        cleanEnv(),
      );
      expect(run.status, run.stderr).to.equal(0);
      expect(run.caches).to.deep.equal(expectedCaches[store]);
    });
  }
});
