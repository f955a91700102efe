import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './support/confd-process.js';
import { runRecordingCodeCaches } from '../support/code-caches.js';

/** A copy of bin/ and dist/ (node_modules is not needed for -version), removed afterwards. */
async function withCopy(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'confd-launcher-'));
  try {
    await cp(join(repoRoot, 'bin'), join(dir, 'bin'), { recursive: true });
    await cp(join(repoRoot, 'dist'), join(dir, 'dist'), { recursive: true, preserveTimestamps: true });
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Loads the bundle of `dir` in a child (a module loads once per process) and says whether V8 used the cache. */
function cacheUsed(dir: string): boolean {
  const script = `const { loadBundle } = require(${JSON.stringify(join(dir, 'bin/load-bundle.js'))});
    process.stdout.write(String(loadBundle().cached));`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(run.status, run.stderr).to.equal(0);
  return run.stdout === 'true';
}

/**
 * Which cache of the bundle bin/confd of `dir` reads for a run named by `argv` and `env` ('refused' when V8
 * compiled it from source): `-version` first, so that nothing else runs.
 */
function bundleCacheFor(dir: string, argv: string[], env: NodeJS.ProcessEnv = demoEnv()): string {
  const run = runRecordingCodeCaches(join(dir, 'bin/confd'), ['-version', ...argv], env);
  return run.caches['confd.cjs'] ?? 'refused';
}

/** The environment without CONFD_* settings, which would change what a run does. */
function demoEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CONFD_')));
}

function version(dir: string): string {
  const run = spawnSync(process.execPath, [join(dir, 'bin/confd'), '-version'], { encoding: 'utf8' });
  expect(run.status, run.stderr).to.equal(0);
  expect(run.stdout).to.match(/^confd \d+\.\d+\.\d+ \(confd-ts/);
  return run.stdout;
}

// The bundle's require() of execa and of the store clients is exercised by every end-to-end test that runs a
// command or talks to a store through bin/confd.
describe('launcher (bin/confd, bin/load-bundle.js)', () => {
  it('runs the bundle through the code cache the build wrote, which this Node.js accepts', () => {
    // A cache V8 rejects is recompiled silently: this is what shows that the build's cache is the one used.
    // In a child: this process may have set V8 flags (a test of collect-garbage.ts does), and V8 refuses a
    // code cache under flags other than those it was made under.
    expect(cacheUsed(repoRoot)).to.equal(true);
  });

  it('ignores a cache made from another bundle, even one of the same length', () =>
    withCopy(async (dir) => {
      expect(cacheUsed(dir)).to.equal(true);
      const expected = version(dir);
      // Same length, other content: V8 alone would take the old cache for it. Modified a few seconds after
      // the build, as any edit or rebuild is (the stamp has whole seconds).
      const bundle = join(dir, 'dist/confd.cjs');
      const built = (await stat(bundle)).mtime;
      const text = await readFile(bundle, 'utf8');
      await writeFile(bundle, `${text.slice(0, -1)} `);
      const later = new Date(built.getTime() + 3000);
      await utimes(bundle, later, later);
      expect(cacheUsed(dir)).to.equal(false);
      expect(version(dir)).to.equal(expected);
    }));

  it('still runs when the code cache is corrupt, or missing', () =>
    withCopy(async (dir) => {
      const expected = version(dir);
      await writeFile(join(dir, 'dist/confd.cache'), Buffer.alloc(4096, 0x5a));
      expect(cacheUsed(dir)).to.equal(false);
      expect(version(dir)).to.equal(expected);
      await rm(join(dir, 'dist/confd.cache'));
      expect(cacheUsed(dir)).to.equal(false);
      expect(version(dir)).to.equal(expected);
    }));

  it('reads the cache trained on the backend the command line names (each store), the general one otherwise', () => {
    expect(bundleCacheFor(repoRoot, ['-onetime', '-backend', 'etcdv3', '-node', '127.0.0.1:2379'])).to.equal(
      'confd.etcd.cache',
    );
    expect(bundleCacheFor(repoRoot, ['--backend=etcd'])).to.equal('confd.etcd.cache');
    expect(bundleCacheFor(repoRoot, ['-backend=consul', '-onetime'])).to.equal('confd.consul.cache');
    expect(bundleCacheFor(repoRoot, ['-onetime'], { ...demoEnv(), CONFD_BACKEND: 'consul' })).to.equal(
      'confd.consul.cache',
    );
    // The flag wins over the environment, as in the CLI.
    expect(
      bundleCacheFor(repoRoot, ['-backend', 'etcdv3'], { ...demoEnv(), CONFD_BACKEND: 'consul' }),
    ).to.equal('confd.etcd.cache');
    // The last one given, as for the CLI's flags.
    expect(bundleCacheFor(repoRoot, ['-backend', 'consul', '-backend=etcdv3'])).to.equal('confd.etcd.cache');
    expect(bundleCacheFor(repoRoot, ['-backend', 'redis'])).to.equal('confd.redis.cache');
    expect(bundleCacheFor(repoRoot, ['-backend', 'zookeeper'])).to.equal('confd.zookeeper.cache');
    for (const argv of [
      [],
      ['-backend', 'env'],
      ['-backend', 'file'],
      ['-version'],
      ['--', '-backend', 'etcd'],
    ])
      expect(bundleCacheFor(repoRoot, argv), argv.join(' ')).to.equal('confd.cache');
  });

  it('falls back to the general cache when the trained one is missing or was made from another bundle', () =>
    withCopy(async (dir) => {
      const etcd = ['-backend', 'etcdv3'];
      const trained = join(dir, 'dist/confd.etcd.cache');
      await writeFile(
        trained,
        Buffer.concat([Buffer.from('confd-ts code cache v1 1 1\n'), Buffer.alloc(64)]),
      );
      expect(bundleCacheFor(dir, etcd)).to.equal('confd.cache');
      await rm(trained);
      expect(bundleCacheFor(dir, etcd)).to.equal('confd.cache');
      expect(bundleCacheFor(dir, ['-backend', 'consul'])).to.equal('confd.consul.cache');
    }));

  it('loads a library from its own file in dist/, only for the runs that use it, without node_modules', () =>
    withCopy(async (dir) => {
      // The copy has no node_modules: a store library still read from there would fail to load.
      const script = `const { loadBundle } = require(${JSON.stringify(join(dir, 'bin/load-bundle.js'))});
        const { exports, scripts } = loadBundle();
        exports.main(process.argv.slice(1)).then((code) => {
          const loaded = scripts.slice(1).map((s) => s.name);
          process.stdout.write(JSON.stringify({ code, loaded }));
        });`;
      const confd = (args: string[]): { code: number; loaded: string[] } => {
        const run = spawnSync(process.execPath, ['-e', script, '--', '-onetime', '-confdir', dir, ...args], {
          encoding: 'utf8',
        });
        expect(run.status, run.stderr).to.equal(0);
        return JSON.parse(run.stdout) as { code: number; loaded: string[] };
      };
      const data = join(dir, 'data.yaml');
      await writeFile(data, 'a: 1\n');
      expect(confd(['-backend', 'file', '-file', data]).loaded).to.deep.equal(['js-yaml.cjs']);
      // A resource with a check and a reload command runs them through execa.
      await mkdir(join(dir, 'conf.d'));
      await mkdir(join(dir, 'templates'));
      await writeFile(join(dir, 'templates/a.tmpl'), 'a={{getv "/a"}}\n');
      const resource = `[template]\nsrc = "a.tmpl"\ndest = "${join(dir, 'a.conf')}"\nkeys = ["/a"]\n`;
      await writeFile(
        join(dir, 'conf.d/a.toml'),
        `${resource}check_cmd = "test -s {{.src}}"\nreload_cmd = "true"\n`,
      );
      const withCommands = confd(['-backend', 'file', '-file', data]);
      expect(withCommands.code).to.equal(0);
      expect(withCommands.loaded).to.deep.equal(['js-yaml.cjs', 'execa.cjs']);
      expect(await readFile(join(dir, 'a.conf'), 'utf8')).to.equal('a=1\n');
      await rm(join(dir, 'conf.d'), { recursive: true });
      // Nothing listens on port 1: the run fails on connecting, which needs the library loaded first.
      for (const [backend, library] of [
        ['redis', 'ioredis'],
        ['zookeeper', 'node-zookeeper-client'],
      ] as const) {
        const run = confd(['-backend', backend, '-node', '127.0.0.1:1', '-connect-timeout', '1s']);
        expect(run.code).to.equal(1);
        expect(run.loaded).to.deep.equal([`${library}.cjs`]);
      }
    }));

  it('names a library whose file is missing from dist/ as Node.js names a missing module', () =>
    withCopy(async (dir) => {
      await rm(join(dir, 'dist/ioredis.cjs'));
      const run = spawnSync(
        process.execPath,
        [join(dir, 'bin/confd'), '-onetime', '-confdir', dir, '-backend', 'redis', '-node', '127.0.0.1:1'],
        { encoding: 'utf8', env: demoEnv() },
      );
      expect(run.status).to.equal(1);
      expect(run.stderr).to.include("Cannot find module './ioredis.cjs'").and.include('run npm run build');
    }));

  it('says why when the bundle cannot be loaded, and ends with 1 though a handle is left open', () =>
    withCopy(async (dir) => {
      await rm(join(dir, 'dist/confd.cjs'));
      const preload = join(dir, 'open-handle.cjs');
      await writeFile(preload, 'setInterval(() => {}, 60_000);\n');
      // The guard only keeps a broken launcher from holding the suite: it would end with status null.
      const run = spawnSync(process.execPath, ['-r', preload, join(dir, 'bin/confd'), '-version'], {
        encoding: 'utf8',
        env: demoEnv(),
        timeout: 15_000,
      });
      expect(run.status, run.stderr).to.equal(1);
      expect(run.stderr).to.match(/^confd: ENOENT: .*dist\/confd\.cjs/);
    }));

  it('bundles each library at the version node_modules holds (a dist/ from before an upgrade is stale)', async () => {
    for (const name of [
      'ioredis',
      'node-zookeeper-client',
      'execa',
      'handlebars',
      'js-yaml',
      'diff',
      'minimatch',
    ]) {
      // Read as a file: execa's package.json is not among the paths its package exports.
      const manifest = await readFile(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8');
      const { version } = JSON.parse(manifest) as { version: string };
      const first = (await readFile(join(repoRoot, 'dist', `${name}.cjs`), 'utf8')).split('\n', 1)[0];
      expect(first, `dist/${name}.cjs: run npm run build`).to.equal(
        `/* ${name} ${version}, bundled by scripts/bundle.mjs */`,
      );
    }
  });

  it('runs the libraries a -onetime demo loads through the caches the build wrote for them', () => {
    // Handlebars is loaded after the run has set its V8 flags, js-yaml before: each cache must have been
    // written under the flags in force when its library loads (scripts/code-cache.mjs).
    const script = `const { loadBundle } = require(${JSON.stringify(join(repoRoot, 'bin/load-bundle.js'))});
      const { exports, scripts } = loadBundle();
      exports.main(process.argv.slice(1)).then((code) => {
        process.stdout.write(JSON.stringify({ code, cached: scripts.map((s) => [s.name, s.cached]) }));
      });`;
    const args = ['-onetime', '-noop', '-backend', 'file', '-file', join(repoRoot, 'example/data.yaml')];
    args.push('-confdir', repoRoot, '-config-file', '', '-log-level', 'error');
    const run = spawnSync(process.execPath, ['-e', script, '--', ...args], {
      encoding: 'utf8',
      env: demoEnv(),
    });
    expect(run.status, run.stderr).to.equal(0);
    const { code, cached } = JSON.parse(run.stdout.slice(run.stdout.lastIndexOf('{"code"'))) as {
      code: number;
      cached: Array<[string, boolean]>;
    };
    expect(code).to.equal(0);
    expect(Object.fromEntries(cached)).to.include({
      'confd.cjs': true,
      'js-yaml.cjs': true,
      'handlebars.cjs': true,
    });
  });

  it('still runs when V8 rejects the cache (other V8 flags)', () =>
    withCopy(async (dir) => {
      const run = spawnSync(process.execPath, ['--stack-size=2000', join(dir, 'bin/confd'), '-version'], {
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout).to.equal(version(dir));
    }));
});
