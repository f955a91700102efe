// Writes dist/confd.cache: V8's code cache of dist/confd.cjs, taken after a training run so that it holds
// the functions a run compiles lazily as well as the bundle's top level; dist/<name>.cache for each
// library of its own file the training loads (Handlebars, js-yaml, ioredis, node-zookeeper-client); and
// dist/confd.<store>.cache, the bundle's cache trained on a run of that store's backend (etcd, Consul,
// Redis, ZooKeeper). Run by scripts/bundle.mjs.
//
// The general training is the bundled example (file backend, YAML data, the Handlebars and the Go template
// of conf.d/prometheus.toml) rendered twice into a throwaway directory: once written, once found in sync.
// What it does not reach (the store clients, watch mode, the libraries it does not load) compiles lazily
// at run time, as without a cache: for an etcd run over 1,000 keys, ~3 ms of ~66. So each store gets
// the bundle's cache trained on a `-onetime` run of its backend (the example's Go template and a
// range over 100 keys, written, then in sync) against a stand-in that answers a read's calls
// (scripts/training-stores.mjs: `npm ci` may run where no store does); bin/load-bundle.js reads the one the
// run's -backend names. V8 reads a cache whole, so one cache trained on every backend would cost each run
// the others' code.
//
// V8 stamps a cache with the flags it is written under and refuses it under others, and a run sets its
// own flags once its backend is loaded (src/cli/v8-tuning.ts): the CLI's bundle, and a library loaded
// before that point (js-yaml, for the file backend), is compiled under V8's defaults; a library loaded
// later (Handlebars, once conf.d names a .hbs template; the Redis and ZooKeeper clients) under the run's.
// So each training runs twice, in two processes: under the defaults (CONFD_V8_TUNING=off), which writes
// the bundle's cache (and, for the example, the libraries'); then as a tuned `-onetime` run (--tuned),
// which writes the cache of each library V8 refused there or had none for, under that run's flags. Onetime runs, where start-up counts,
// so take every cache; a daemon compiles such a library once, at its first use. Each training is a process
// of its own, so that its cache holds what that run compiled and nothing of another's.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { startTrainingStore } from './training-stores.mjs';

// bin/ is CommonJS (bin/package.json): the launcher must not start Node's ESM loader.
const require = createRequire(import.meta.url);
const { backendCacheFile, loadBundle, trainedBackends, writeCodeCache } = require('../bin/load-bundle.js');
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const example = join(root, 'example/data.yaml');
const argv = process.argv.slice(2);
const tuned = argv.includes('--tuned');
const backend = argv.includes('--backend') ? argv[argv.indexOf('--backend') + 1] : undefined;

/** A resource of the training's conf.d. */
const resource = (work, name, src, prefix, keys) =>
  writeFileSync(
    join(work, 'conf.d', `${name}.toml`),
    `[template]\nsrc = "${src}"\ndest = "${join(work, `out-${name}`)}"\nprefix = "${prefix}"\nkeys = ${JSON.stringify(keys)}\nmode = "0644"\n`,
  );

/** The example's data as a store holds it (confd's flattening: maps and lists by name and index), sorted. */
function examplePairs() {
  const pairs = [];
  const flatten = (value, key) => {
    if (value !== null && typeof value === 'object') {
      for (const [name, child] of Object.entries(value)) flatten(child, `${key}/${name}`);
    } else pairs.push([key, String(value)]);
  };
  flatten(require('js-yaml').load(readFileSync(example, 'utf8')), '');
  for (let i = 0; i < 100; i += 1) pairs.push([`/training/k/${String(i).padStart(6, '0')}`, `value-${i}`]);
  return pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

async function train(work) {
  mkdirSync(join(work, 'conf.d'));
  mkdirSync(join(work, 'templates'));
  copyFileSync(join(root, 'templates/prometheus.yml.tmpl'), join(work, 'templates/prometheus.yml.tmpl'));
  resource(work, 'go', 'prometheus.yml.tmpl', '/prometheus', ['/global', '/jobs']);
  // The builder's CONFD_* settings (an SRV domain, a scheme, credentials, a prefix) are not the training's.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CONFD_')));
  const common = ['-onetime', '-confdir', work, '-config-file', '', '-log-level', 'error'];
  if (!tuned) env.CONFD_V8_TUNING = 'off';
  const loaded = loadBundle({ useCache: tuned, backend });
  if (backend !== undefined) {
    writeFileSync(join(work, 'templates/keys.tmpl'), '{{range gets "/k/*"}}{{.Key}}={{.Value}}\n{{end}}');
    resource(work, 'keys', 'keys.tmpl', '/training', ['/k']);
    const store = await startTrainingStore(backend, examplePairs());
    try {
      await runTwice(loaded, [...common, '-backend', backend, '-node', store.node], env);
    } finally {
      await store.close();
    }
  } else {
    copyFileSync(join(root, 'templates/prometheus.yml.hbs'), join(work, 'templates/prometheus.yml.hbs'));
    resource(work, 'hbs', 'prometheus.yml.hbs', '/prometheus', ['/global', '/jobs']);
    await runTwice(loaded, [...common, '-backend', 'file', '-file', example], env);
  }
  const [bundle, ...libraries] = loaded.scripts;
  if (tuned) {
    // Only what V8 refused under the run's flags, or what had no cache: the libraries loaded after them.
    if (!loaded.cached)
      throw new Error(`code cache: the tuned run refused the bundle's cache (${loaded.cacheFile})`);
    writeCodeCache({ scripts: libraries.filter((script) => !script.cached) });
  } else if (backend !== undefined) {
    // The bundle's cache of this backend; a library's cache written here would be refused by a run, whose
    // flags are set before the store's library loads: the tuned pass writes those.
    writeCodeCache({ scripts: [{ ...bundle, cacheFile: backendCacheFile(backend) }] });
  } else writeCodeCache(loaded);
}

/** Once written, once found in sync: both paths compiled. */
async function runTwice(loaded, args, env) {
  for (let run = 0; run < 2; run += 1) {
    const code = await loaded.exports.main(args, env);
    if (code !== 0) throw new Error(`code cache: the training run (${args.join(' ')}) exited with ${code}`);
  }
}

const work = mkdtempSync(join(tmpdir(), 'confd-code-cache-'));
try {
  await train(work);
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (argv.length === 0) {
  const self = fileURLToPath(import.meta.url);
  // Bounded: a training run that never ends (a client waiting on an answer the stand-in never sends)
  // fails the build instead of holding it. A pass takes well under a second.
  const pass = (...args) =>
    execFileSync(process.execPath, [self, ...args], {
      stdio: 'inherit',
      timeout: 120_000,
      killSignal: 'SIGKILL',
    });
  pass('--tuned');
  for (const name of trainedBackends) {
    pass('--backend', name);
    pass('--backend', name, '--tuned');
  }
}
