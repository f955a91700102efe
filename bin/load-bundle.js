// Loads dist/confd.cjs, the bundled CLI (scripts/bundle.mjs), through V8's code cache in dist/confd.cache,
// and each library the bundle keeps in a file of its own (dist/<name>.cjs) through dist/<name>.cache, when
// a run first requires it.
//
// Why: most of a cold run was V8 parsing and compiling the bundle's code (the YAML parser, Handlebars, the resource and
// sync modules), ~50 ms of the demo's ~160. The cache holds that code already compiled; the build writes it
// after a training run, so it also holds the functions compiled lazily during a run. Node 20 has no code
// cache for ES modules (module.enableCompileCache() is Node 22), hence a CommonJS bundle run as a vm.Script,
// and a CommonJS launcher (bin/package.json): an ES module entry point would start Node's ESM loader,
// ~20 ms, before the first line of confd runs. V8 reads a cache whole, so a library in the CLI's own cache
// costs every run its share of the read even when it is never called (Handlebars and the YAML parser, in an
// etcd run with Go templates: ~3 ms); in a file of its own it costs only the runs that load it.
//
// A run only reads the caches (writeCodeCache is the build's, scripts/code-cache.mjs), so the installed
// tree is never written at run time. A cache that does not fit (another bundle, another Node.js, other V8
// flags), or a library the training did not load (no cache at all), costs the compile it would have saved,
// nothing else.
'use strict';
const { closeSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
// Node's CommonJS loader class, which this module is an instance of: require('node:module') would load
// that module's ESM loader and source-map support as well (~0.35 ms), for the same function.
const { createRequire } = module.constructor;
const { basename, dirname, join } = require('node:path');
const { Script } = require('node:vm');

const distDir = join(__dirname, '../dist');
const bundleFile = join(distDir, 'confd.cjs');

/**
 * The stores whose runs read a cache of the bundle trained on a run of their own backend,
 * dist/confd.<store>.cache (scripts/code-cache.mjs), by -backend name: the general cache is trained on the
 * file backend's example, so it holds none of a store client's code, which every run of that store would
 * compile (1,000 keys: etcd ~3 ms of ~66, ZooKeeper ~8 of ~76, Redis ~12 of ~86 with its library's cache).
 * The file and env backends read the general cache.
 */
const BACKEND_CACHES = {
  etcd: 'etcd',
  etcdv3: 'etcd',
  consul: 'consul',
  redis: 'redis',
  zookeeper: 'zookeeper',
};
/** One training run per cache, by a -backend name that selects it. */
const trainedBackends = ['etcdv3', 'consul', 'redis', 'zookeeper'];

function backendCacheFile(backend) {
  if (!Object.hasOwn(BACKEND_CACHES, backend)) return undefined;
  return join(distDir, `confd.${BACKEND_CACHES[backend]}.cache`);
}

/**
 * The backend a command line names (`-backend x`, `--backend=x`, ...), else CONFD_BACKEND: only to pick the
 * cache that fits the run best. The CLI reads its settings itself (a backend set in confd.toml is not seen
 * here); a wrong guess costs the compile a cache would have saved, nothing else.
 */
function namedBackend(argv, env) {
  let named;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--') break;
    const flag = /^--?backend(?:=(.*))?$/.exec(argv[i]);
    // The last one given counts, as for the CLI's flags.
    if (flag) named = flag[1] ?? argv[i + 1];
  }
  return named ?? (env.CONFD_BACKEND || undefined);
}

/** How the bundle names a library of its own file (scripts/bundle.mjs, VENDORED). */
const LIBRARY = /^\.\/[\w.-]+\.cjs$/;

/**
 * A cache file: one header line naming the script it was made from (its size and modification time, as
 * Python's .pyc files do), then V8's data. V8 itself checks only the source's length (and its own version
 * and flags), so a script rebuilt or edited to the same length would otherwise run with the old code.
 */
const HEADER = 'confd-ts code cache v1';

function scriptStamp(fd) {
  const st = fstatSync(fd);
  // Whole seconds, as .pyc files: a copy that keeps timestamps (cp -p) may round below the millisecond.
  return `${HEADER} ${st.size} ${Math.floor(st.mtimeMs / 1000)}\n`;
}

/** V8's data from a cache file, or undefined when there is none or it was made from another script. */
function readCodeCache(cacheFile, stamp) {
  let data;
  try {
    data = readFileSync(cacheFile);
  } catch {
    return undefined; // No cache (a build that could not write one, a library not trained): compile.
  }
  const header = Buffer.from(stamp);
  return data.subarray(0, header.length).equals(header) ? data.subarray(header.length) : undefined;
}

/**
 * Compiles one script of dist/ (one function expression: scripts/bundle.mjs writes its first and last
 * lines) through its cache and calls it with what a CommonJS module gets. `id` is how the bundle required
 * a library (for the error when its file is missing).
 */
function runScript(file, requireFor, useCache, id, cacheFiles = [file.replace(/\.cjs$/, '.cache')]) {
  let fd;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if (id === undefined || err.code !== 'ENOENT') throw err;
    // As Node's own loader says it (a dist/ built without the library): run `npm run build`.
    throw Object.assign(new Error(`Cannot find module '${id}' (${file}): run npm run build`), {
      code: 'MODULE_NOT_FOUND',
    });
  }
  let source;
  let stamp;
  try {
    stamp = scriptStamp(fd);
    // ASCII, which scripts/bundle.mjs checks: Latin-1 reads it as UTF-8 would, as a copy instead of a decode.
    source = readFileSync(fd, 'latin1');
  } finally {
    closeSync(fd);
  }
  // The first cache there is, of those that fit the run best first.
  let cacheFile = cacheFiles[cacheFiles.length - 1];
  let cachedData;
  for (const candidate of useCache ? cacheFiles : []) {
    cachedData = readCodeCache(candidate, stamp);
    if (cachedData !== undefined) {
      cacheFile = candidate;
      break;
    }
  }
  // Compiled as read: a wrapper joined to it here would be a second copy of the whole source in the heap.
  const script = new Script(source, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, requireFor(file), module, file, dirname(file));
  const cached = cachedData !== undefined && !script.cachedDataRejected;
  return { name: basename(file), cacheFile, script, stamp, cached, exports: module.exports };
}

/**
 * Runs the bundle and returns its exports ({ main }), whether V8 took the cache (`cached`), which cache it
 * read (`cacheFile`), and `scripts`: every script of dist/ run so far, the bundle first, libraries as the
 * run requires them (what writeCodeCache writes caches for). `useCache: false` compiles from source.
 * `backend` (namedBackend) picks the bundle's cache trained on that backend, when there is one.
 */
function loadBundle({ useCache = true, backend } = {}) {
  const scripts = [];
  const libraries = new Map();
  const requireFor = (file) => {
    const nodeRequire = createRequire(file);
    const requireFrom = (id) => {
      if (!LIBRARY.test(id)) return nodeRequire(id);
      let library = libraries.get(id);
      if (library === undefined) {
        library = runScript(join(distDir, id), requireFor, useCache, id);
        libraries.set(id, library);
        scripts.push(library);
      }
      return library.exports;
    };
    const { resolve, cache, extensions, main } = nodeRequire;
    return Object.assign(requireFrom, { resolve, cache, extensions, main });
  };
  const general = join(distDir, 'confd.cache');
  const trained = backendCacheFile(backend);
  const bundle = runScript(
    bundleFile,
    requireFor,
    useCache,
    undefined,
    trained ? [trained, general] : [general],
  );
  scripts.unshift(bundle);
  return { exports: bundle.exports, cached: bundle.cached, cacheFile: bundle.cacheFile, scripts };
}

/** Writes the cache of every script `loaded` (a loadBundle result) has run: the build's last step. */
function writeCodeCache({ scripts }) {
  for (const { cacheFile, stamp, script } of scripts) {
    // Renamed into place whole: a build cut short leaves the old cache or none, never part of one.
    const staged = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(staged, Buffer.concat([Buffer.from(stamp), script.createCachedData()]));
    renameSync(staged, cacheFile);
  }
}

module.exports = { backendCacheFile, bundleFile, loadBundle, namedBackend, trainedBackends, writeCodeCache };
