/**
 * Cross-backend conformance: one fixture (test/fixtures/conformance/data.json), loaded into every store by
 * its own client, and one conf.d/templates set must render byte-identical files through the real CLI on
 * every backend, equal to the committed golden files in test/fixtures/conformance/expected/.
 */
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { cleanEnv, runConfd, Workspace, type ConfdRun } from '../e2e/support/confd-process.js';
import {
  caseOf,
  copyConfdir,
  destOf,
  ENV_SKIPPED,
  ENV_SKIPPED_RESOURCES,
  FAILING_RESOURCES,
  randomRoot,
  readExpected,
  readExpectedError,
  readFixtureData,
  RENDERED_RESOURCES,
  RESOURCES,
  survivesEnv,
  type FixtureData,
} from './support/conformance-fixture.js';
import {
  loadConsul,
  loadEnv,
  loadEtcd,
  loadFile,
  loadRedis,
  loadZookeeper,
  type FixtureLoader,
  type LoadedFixture,
} from './support/conformance-loaders.js';
import { useStore, type RunningStore, type StoreName } from './support/stores.js';

interface BackendCase {
  backend: string;
  store?: StoreName;
  load: FixtureLoader;
  /** Resources this backend's key model cannot carry (see ENV_SKIPPED). */
  skipped: readonly string[];
}

const CASES: readonly BackendCase[] = [
  { backend: 'file', load: loadFile, skipped: [] },
  { backend: 'env', load: loadEnv, skipped: ENV_SKIPPED_RESOURCES },
  { backend: 'etcd', store: 'etcd', load: loadEtcd, skipped: [] },
  { backend: 'zookeeper', store: 'zookeeper', load: loadZookeeper, skipped: [] },
  { backend: 'consul', store: 'consul', load: loadConsul, skipped: [] },
  { backend: 'redis', store: 'redis', load: loadRedis, skipped: [] },
];

/** The failing resource's dest holds this before the run; a failed render must not touch it. */
const PREVIOUS_CONTENT = 'previous content: a failed render must leave this file alone\n';

/** Fixture keys under `/<top>/`; the bulk and names resources read exactly their own such directory. */
function keysOf(data: FixtureData, top: string): string[] {
  return Object.keys(data).filter((key) => key.startsWith(`/${top}/`));
}

describe('conformance: one fixture set renders byte-identical files on every backend', function () {
  this.timeout(30_000);
  const root = randomRoot();
  const stores = new Map<StoreName, Promise<RunningStore>>();
  let data: FixtureData;
  const expectedErrors = new Map<string, string>();

  before(async () => {
    // Start every store at once; each backend's own `before` awaits (and fails on) only its own.
    for (const { store } of CASES) {
      if (!store || stores.has(store)) continue;
      const starting = useStore(store);
      starting.catch(() => undefined);
      stores.set(store, starting);
    }
    data = await readFixtureData();
    for (const resource of FAILING_RESOURCES) expectedErrors.set(resource, await readExpectedError(resource));
  });

  it('holds a golden file for every resource that renders, and the one case that fails', async () => {
    expect(FAILING_RESOURCES).to.deep.equal(['missing', 'missing.go']);
    expect(RENDERED_RESOURCES.length).to.be.at.least(16);
    for (const resource of RENDERED_RESOURCES) expect((await readExpected(resource)).length).to.be.above(0);
    // Every case is written for both engines.
    const cases = new Set(RESOURCES.map(caseOf));
    for (const c of cases) expect(RESOURCES).to.include.members([c, `${c}.go`]);
    expect(keysOf(data, 'bulk').length).to.be.at.least(200);
  });

  it('skips on env exactly the resources whose keys cannot survive the env name mapping', () => {
    // Every resource env skips reads a key that does not survive; every other key does survive.
    for (const skipped of Object.keys(ENV_SKIPPED)) {
      expect(ENV_SKIPPED_RESOURCES).to.include.members([skipped, `${skipped}.go`]);
      expect(keysOf(data, skipped).filter((key) => !survivesEnv(key))).to.have.length.above(0);
    }
    const others = Object.keys(data).filter(
      (key) => !Object.keys(ENV_SKIPPED).some((s) => key.startsWith(`/${s}/`)),
    );
    expect(others.filter((key) => !survivesEnv(key))).to.deep.equal([]);
    expect(survivesEnv(`${root}/app/db`)).to.equal(true);
  });

  for (const c of CASES) {
    describe(`-backend ${c.backend}`, function () {
      let workspace: Workspace | undefined;
      let fixture: LoadedFixture | undefined;
      let run: ConfdRun;

      before(async function () {
        this.timeout(180_000);
        const store = c.store ? await stores.get(c.store) : undefined;
        workspace = await Workspace.create();
        await copyConfdir(workspace.root, c.skipped);
        for (const resource of FAILING_RESOURCES) await workspace.write(destOf(resource), PREVIOUS_CONTENT);
        fixture = await c.load({ root, data, endpoint: store?.endpoint ?? '', workDir: workspace.root });
        // dests in conf.d are relative: they land in the workspace, the run's working directory.
        run = await runConfd(
          ['-onetime', '-backend', c.backend, ...fixture.args, '-prefix', root, '-confdir', workspace.root],
          { cwd: workspace.root, env: cleanEnv(fixture.env) },
        );
      });

      after(async () => {
        try {
          await fixture?.cleanup();
        } finally {
          await workspace?.remove();
        }
      });

      for (const resource of RENDERED_RESOURCES) {
        if (c.skipped.includes(resource)) continue;
        it(`renders ${resource} byte-identical to expected/${caseOf(resource)}.conf`, async () => {
          const expected = await readExpected(resource);
          const actual = await readFile(workspace!.path('out', `${resource}.conf`)).catch((err: unknown) => {
            throw new Error(`out/${resource}.conf was not written; confd said:\n${run.stderr}`, {
              cause: err,
            });
          });
          // The text comparison shows a readable diff; the byte comparison is the actual claim.
          expect(actual.toString('utf8')).to.equal(expected.toString('utf8'));
          expect(actual.equals(expected)).to.equal(true);
        });
      }

      for (const resource of FAILING_RESOURCES) {
        it(`fails ${resource} with the template, line and key, exits 1, and leaves its dest untouched`, async () => {
          expect(run.code, run.stderr).to.equal(1);
          // Named by its path under the confdir's templates/, then line:column and the key.
          const reported = `${workspace!.path('templates')}/${expectedErrors.get(resource) ?? ''}`;
          const times = run.stderr.split(reported).length - 1;
          expect(times, `${reported} reported once; confd said:\n${run.stderr}`).to.equal(1);
          expect(await readFile(workspace!.path(destOf(resource)), 'utf8')).to.equal(PREVIOUS_CONTENT);
        });
      }
    });
  }
});
