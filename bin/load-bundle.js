// Loads dist/confd.cjs, the bundled CLI (scripts/bundle.mjs), through V8's code cache in dist/confd.cache.
//
// Why: most of a cold run was V8 parsing and compiling the bundle's code (the YAML parser, Handlebars, the resource and
// sync modules), ~50 ms of the demo's ~160. The cache holds that code already compiled; the build writes it
// after a training run, so it also holds the functions compiled lazily during a run. Node 20 has no code
// cache for ES modules (module.enableCompileCache() is Node 22), hence a CommonJS bundle run as a vm.Script,
// and a CommonJS launcher (bin/package.json): an ES module entry point would start Node's ESM loader,
// ~20 ms, before the first line of confd runs.
//
// A run only reads the cache (writeCodeCache is the build's, scripts/code-cache.mjs), so the installed tree
// is never written at run time. A cache that does not fit (another bundle, another Node.js, other V8
// flags) costs the compile it would have saved, nothing else.
'use strict';
const { closeSync, fstatSync, openSync, readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const bundleFile = join(__dirname, '../dist/confd.cjs');
const codeCacheFile = join(__dirname, '../dist/confd.cache');

/**
 * The cache file: one header line naming the bundle it was made from (its size and modification time, as
 * Python's .pyc files do), then V8's data. V8 itself checks only the source's length (and its own version
 * and flags), so a bundle rebuilt or edited to the same length would otherwise run with the old code.
 */
const HEADER = 'confd-ts code cache v1';

function bundleStamp(fd) {
  const st = fstatSync(fd);
  // Whole seconds, as .pyc files: a copy that keeps timestamps (cp -p) may round below the millisecond.
  return `${HEADER} ${st.size} ${Math.floor(st.mtimeMs / 1000)}\n`;
}

/** V8's data from the cache file, or undefined when there is none or it was made from another bundle. */
function readCodeCache(stamp) {
  let data;
  try {
    data = readFileSync(codeCacheFile);
  } catch {
    return undefined; // No cache (a build that could not write one): compile from source.
  }
  const header = Buffer.from(stamp);
  return data.subarray(0, header.length).equals(header) ? data.subarray(header.length) : undefined;
}

/** Writes the cache of `script` for the bundle `loadBundle` read (the build's last step). */
function writeCodeCache({ script, stamp }) {
  writeFileSync(codeCacheFile, Buffer.concat([Buffer.from(stamp), script.createCachedData()]));
}

/**
 * Runs the bundle and returns its exports ({ main }), whether V8 took the cache (`cached`) and what
 * writeCodeCache needs. `useCache: false` compiles from source.
 */
function loadBundle({ useCache = true } = {}) {
  const fd = openSync(bundleFile, 'r');
  let source;
  let stamp;
  try {
    stamp = bundleStamp(fd);
    // ASCII, which scripts/bundle.mjs checks: Latin-1 reads it as UTF-8 would, as a copy instead of a decode.
    source = readFileSync(fd, 'latin1');
  } finally {
    closeSync(fd);
  }
  const cachedData = useCache ? readCodeCache(stamp) : undefined;
  // The bundle is one function expression (scripts/bundle.mjs writes its first and last lines), compiled as
  // read: a wrapper joined to it here would be a second copy of the whole source in the heap.
  const script = new Script(source, { filename: bundleFile, cachedData });
  const bundle = { exports: {} };
  script.runInThisContext()(
    bundle.exports,
    createRequire(bundleFile),
    bundle,
    bundleFile,
    dirname(bundleFile),
  );
  const cached = cachedData !== undefined && !script.cachedDataRejected;
  return { exports: bundle.exports, cached, script, stamp };
}

module.exports = { bundleFile, codeCacheFile, loadBundle, writeCodeCache };
