import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  BACKENDS,
  createStoreClient,
  prepareBackend,
  supportedBackends,
} from '../../../src/backends/factory.js';
import type { BackendLoader, BackendModule } from '../../../src/backends/factory.js';
import type { BackendOptions, StoreClient } from '../../../src/backends/store-client.js';
import { UnsupportedBackendError } from '../../../src/errors.js';
import { backendOptions } from '../../support/backend-options.js';
import { recordingLogger } from '../../support/loggers.js';
import { rejection } from '../../support/async.js';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const factoryPath = join(repoRoot, 'src/backends/factory.ts');

/** A registry whose loaders count their calls and hand out a fake client. */
function countingRegistry(names: string[]) {
  const loads: Record<string, number> = {};
  const created: string[] = [];
  const registry: Record<string, BackendLoader> = {};
  for (const name of names) {
    loads[name] = 0;
    registry[name] = async (): Promise<BackendModule> => {
      loads[name] = (loads[name] ?? 0) + 1;
      return {
        createClient: async (options) => {
          created.push(options.backend);
          return {
            getValues: async () => new Map(),
            watch: async (prefix) => ({
              prefix,
              index: 1,
              next: () => new Promise(() => undefined),
              release: () => undefined,
            }),
            ping: async () => {},
            close: async () => {},
          } as StoreClient;
        },
      };
    };
  }
  return { registry, loads, created };
}

describe('createStoreClient', () => {
  // Class names, not instanceof: under tsx a test's static import and the factory's dynamic import may
  // yield two copies of a module.
  it('creates a file client for -backend file', async () => {
    const client = await createStoreClient(
      backendOptions({ backend: 'file', files: ['x.yaml'] }),
      recordingLogger(),
    );
    expect(client.constructor.name).to.equal('FileStoreClient');
    await client.close();
  });

  it('creates an env client for -backend env', async () => {
    const client = await createStoreClient(backendOptions({ backend: 'env' }), recordingLogger());
    expect(client.constructor.name).to.equal('EnvStoreClient');
    expect((await client.getValues(['/path'])).get('/path')).to.equal(process.env.PATH);
  });

  for (const name of ['dynamodb', 'ssm', 'vault', 'rancher', 'stackengine', 'mysql', '']) {
    it(`throws UnsupportedBackendError for ${JSON.stringify(name)}`, async () => {
      const err = await rejection(createStoreClient(backendOptions({ backend: name }), recordingLogger()));
      expect(err).to.be.instanceOf(UnsupportedBackendError);
      expect(err.message).to.equal(`backend ${name} is not supported`);
      expect((err as UnsupportedBackendError).backend).to.equal(name);
    });
  }

  it('does not mistake object properties for backends', async () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const err = await rejection(createStoreClient(backendOptions({ backend: name }), recordingLogger()));
      expect(err, name).to.be.instanceOf(UnsupportedBackendError);
    }
  });

  it('loads only the module of the chosen backend', async () => {
    const { registry, loads, created } = countingRegistry(['file', 'etcd', 'redis']);
    await createStoreClient(backendOptions({ backend: 'etcd' }), recordingLogger(), registry);
    expect(loads).to.deep.equal({ file: 0, etcd: 1, redis: 0 });
    expect(created).to.deep.equal(['etcd']);
  });

  it('loads nothing for an unsupported backend', async () => {
    const { registry, loads } = countingRegistry(['file']);
    await rejection(createStoreClient(backendOptions({ backend: 'vault' }), recordingLogger(), registry));
    expect(loads).to.deep.equal({ file: 0 });
  });

  it('registers file and env as lazy loaders', () => {
    expect(supportedBackends()).to.include.members(['env', 'file']);
    for (const name of supportedBackends()) {
      expect(BACKENDS[name], name).to.be.a('function').with.lengthOf(0);
    }
  });
});

describe('prepareBackend', () => {
  it("loads the chosen backend's module and the Node.js modules its client needs, and creates no client", async () => {
    const { registry, loads, created } = countingRegistry(['file', 'redis']);
    const calls: string[] = [];
    const redis = registry.redis;
    registry.redis = async () => ({
      ...(await redis!()),
      loadNodeModules: async () => void calls.push('redis'),
    });
    await prepareBackend('redis', registry);
    expect(loads).to.deep.equal({ file: 0, redis: 1 });
    expect(calls).to.deep.equal(['redis']);
    expect(created).to.deep.equal([]);
  });

  it('is enough for a module without a library of its own', async () => {
    const { registry, loads } = countingRegistry(['file']);
    await prepareBackend('file', registry);
    expect(loads).to.deep.equal({ file: 1 });
  });

  it('rejects an unsupported backend as createStoreClient does', async () => {
    const err = await rejection(prepareBackend('vault', countingRegistry(['file']).registry));
    expect(err).to.be.instanceOf(UnsupportedBackendError);
  });
});

describe('backend modules load lazily (real registry, fresh process)', function () {
  this.timeout(60_000);

  /** Module URLs a fresh node process resolves while creating and closing a client of `options`. */
  async function modulesLoadedFor(options: BackendOptions): Promise<string[]> {
    const dir = await mkdtemp(join(tmpdir(), 'confd-ts-lazy-'));
    try {
      const out = join(dir, 'resolved.txt');
      await writeFile(out, '');
      const hooks = [
        "import { appendFileSync } from 'node:fs';",
        'let out;',
        'export function initialize(data) { out = data.out; }',
        'export async function resolve(specifier, context, next) {',
        '  const result = await next(specifier, context);',
        "  appendFileSync(out, result.url + '\\n');",
        '  return result;',
        '}',
      ].join('\n');
      const script = [
        "import { register } from 'node:module';",
        `register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)}, { data: { out: ${JSON.stringify(out)} } });`,
        `const { createStoreClient } = await import(${JSON.stringify(pathToFileURL(factoryPath).href)});`,
        'const logger = { debug() {}, info() {}, warn() {}, error() {} };',
        `const client = await createStoreClient(${JSON.stringify(options)}, logger);`,
        'await client.close();',
      ].join('\n');
      await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: repoRoot,
      });
      return (await readFile(out, 'utf8')).split('\n').filter(Boolean);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const storeLibraries = /\/node_modules\/(etcd3|ioredis|node-zookeeper-client|consul|@grpc)\//;

  it('-backend env loads neither the file backend nor js-yaml nor any store client library', async () => {
    const urls = await modulesLoadedFor(backendOptions({ backend: 'env' }));
    expect(
      urls.some((u) => u.endsWith('/src/backends/env.ts')),
      'env.ts loaded',
    ).to.equal(true);
    expect(
      urls.filter((u) => u.endsWith('/src/backends/file.ts') || u.includes('/node_modules/js-yaml/')),
    ).to.deep.equal([]);
    expect(urls.filter((u) => storeLibraries.test(u))).to.deep.equal([]);
  });

  it('-backend file loads js-yaml but no other backend and no store client library', async () => {
    const urls = await modulesLoadedFor(backendOptions({ backend: 'file', files: ['x.yaml'] }));
    expect(
      urls.some((u) => u.includes('/node_modules/js-yaml/')),
      'js-yaml loaded',
    ).to.equal(true);
    const otherBackends = supportedBackends()
      .filter((name) => name !== 'file')
      .map((name) => `/src/backends/${name}.ts`);
    expect(urls.filter((u) => otherBackends.some((b) => u.endsWith(b)))).to.deep.equal([]);
    expect(urls.filter((u) => storeLibraries.test(u))).to.deep.equal([]);
  });
});
