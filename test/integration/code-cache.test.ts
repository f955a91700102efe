import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cleanEnv, repoRoot, Workspace } from '../e2e/support/confd-process.js';
import { useStore, type StoreName } from './support/stores.js';

const node: Record<StoreName, (endpoint: string) => string> = {
  etcd: (endpoint) => `http://${endpoint}`,
  consul: (endpoint) => endpoint,
  redis: (endpoint) => endpoint,
  zookeeper: (endpoint) => endpoint,
};

/**
 * What a run's scripts of dist/ were compiled from: each script's name, and the cache file V8 took for it
 * (null when it compiled from source). As bin/confd loads them, in a child (a module loads once per
 * process, and V8 refuses a cache under flags other than those it was made under).
 */
function cachesOfRun(args: string[]): { code: number; caches: Record<string, string | null> } {
  const script = `const { basename } = require('node:path');
    const { loadBundle, namedBackend } = require(${JSON.stringify(join(repoRoot, 'bin/load-bundle.js'))});
    const argv = process.argv.slice(1);
    const { exports, scripts } = loadBundle({ backend: namedBackend(argv, process.env) });
    exports.main(argv).then((code) => {
      const caches = Object.fromEntries(scripts.map((s) => [s.name, s.cached ? basename(s.cacheFile) : null]));
      process.stdout.write(JSON.stringify({ code, caches }));
    });`;
  const run = spawnSync(process.execPath, ['-e', script, '--', ...args], {
    encoding: 'utf8',
    env: cleanEnv(),
  });
  expect(run.status, run.stderr).to.equal(0);
  return JSON.parse(run.stdout.slice(run.stdout.lastIndexOf('{"code"'))) as ReturnType<typeof cachesOfRun>;
}

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
      const { code, caches } = cachesOfRun([...args, '-config-file', '', '-log-level', 'error']);
      expect(code).to.equal(0);
      expect(caches).to.deep.equal(expected[store]);
    });
  }
});
