// Loads dist/confd.cjs, the bundled CLI (scripts/bundle.mjs), through V8's code cache in dist/confd.cache.
//
// Why: most of a cold run was V8 parsing and compiling the bundle's code (yaml, Handlebars, the resource and
// sync modules), ~50 ms of the demo's ~160. The cache holds that code already compiled; the build writes it
// after a training run, so it also holds the functions compiled lazily during a run. Node 20 has no code
// cache for ES modules (module.enableCompileCache() is Node 22), hence a CommonJS bundle run as a vm.Script,
// and a CommonJS launcher (bin/package.json): an ES module entry point would start Node's ESM loader,
// ~20 ms, before the first line of confd runs.
//
// The cache is only ever read here: a cache V8 rejects (another Node.js, other V8 flags) costs the compile
// it would have saved, nothing else, and the installed tree is never written at run time.
'use strict';
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const bundleFile = join(__dirname, '../dist/confd.cjs');
const codeCacheFile = join(__dirname, '../dist/confd.cache');

/**
 * The bundle require()s what it loads lazily (store clients, node:http, ...); a package that is an ES module
 * only (execa) it imports through this. An import() in a vm.Script would need --experimental-vm-modules;
 * this one resolves from the same package.
 */
const importFromPackage = (specifier) => import(specifier);

/**
 * Runs the bundle and returns its exports ({ main }) and the compiled script (the build asks it for its
 * code cache). `useCache: false` compiles from source.
 */
function loadBundle({ useCache = true } = {}) {
  const source = readFileSync(bundleFile, 'utf8');
  let cachedData;
  if (useCache) {
    try {
      cachedData = readFileSync(codeCacheFile);
    } catch {
      // No cache (a build that could not write one): compile from source.
    }
  }
  // The wrapper sits on a line of its own so that line numbers in stack traces are the bundle's.
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname, __load) {\n${source}\n})`,
    { filename: bundleFile, lineOffset: -1, cachedData },
  );
  const bundle = { exports: {} };
  script.runInThisContext()(
    bundle.exports,
    createRequire(bundleFile),
    bundle,
    bundleFile,
    dirname(bundleFile),
    importFromPackage,
  );
  return { exports: bundle.exports, script };
}

module.exports = { bundleFile, codeCacheFile, loadBundle };
