import { expect } from 'chai';
import { cleanEnv, confdBin, Workspace } from '../e2e/support/confd-process.js';
import { runRecordingV8Flags } from '../support/v8-flags.js';
import { useStore, type StoreName } from './support/stores.js';

/** How each backend is pointed at its server. */
const node: Record<StoreName, (endpoint: string) => string> = {
  etcd: (endpoint) => `http://${endpoint}`,
  consul: (endpoint) => endpoint,
  redis: (endpoint) => endpoint,
  zookeeper: (endpoint) => endpoint,
};

// A run on a store loads the built-in modules its client needs (node:http2 and node:tls for etcd, node:net,
// node:dns...) before its V8 flags, which would make Node.js compile them from source.
describe('V8 tuning of a run on each store (real stores)', function () {
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

  for (const store of ['etcd', 'consul', 'redis', 'zookeeper'] as const) {
    it(`${store}: sets its flags once the Node.js modules of its client are loaded`, async () => {
      const { endpoint } = await useStore(store);
      const args = ['-onetime', '-backend', store, '-node', node[store](endpoint), '-confdir', ws.root];
      const report = runRecordingV8Flags(confdBin, [...args, '-config-file', ''], cleanEnv());
      expect(report.status, report.stderr).to.equal(0);
      expect(report.flags).to.deep.equal(['--semi-space-growth-factor=1', '--max-opt=1', '--expose-gc']);
      expect(report.builtins).to.deep.equal([]);
    });
  }
});
