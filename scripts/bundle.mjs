// Bundles the CLI into dist/confd.cjs, the file bin/confd loads (through bin/load-bundle.js), and writes
// dist/confd.cache, V8's code cache for it (and one for each library of its own file that the training run
// loads). One file to read instead of ~150 modules and ~400 package files, and code that is already
// compiled: those two were most of a cold start.
//
// CommonJS, not ES modules, because Node 20 has a code cache only for scripts (vm.Script). Each module of
// the bundle still initialises on first use (esbuild wraps it in an init function), so a dynamic import()
// of ours (store clients, template engines, the metrics endpoint, ...) costs nothing until it runs. The
// small pure-JavaScript packages every run needs (smol-toml for conf.d, ...) are bundled. The libraries only
// some runs need (the Redis and ZooKeeper clients, execa, Handlebars, js-yaml, diff, minimatch) are bundled
// into files of their own (VENDORED), read only by the runs that use them; the packages in EXTERNAL, which
// only daemons need, stay in node_modules, loaded from there on first use. tsc stays the type checker (npm
// run build runs it first); this only transpiles.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXTERNAL = [
  // Only daemons load it (retries and backoff).
  'cockatiel',
  'prom-client',
];

/**
 * Libraries that only some runs load, each bundled into a file of its own next to the CLI's
 * (dist/<name>.cjs), which the CLI's bundle requires in its place and bin/load-bundle.js runs through the
 * file's own code cache (dist/<name>.cache, written when the training run loads it). A run on Redis or
 * ZooKeeper reads one file instead of resolving and reading the library's ~40-70 modules (Redis onetime,
 * 1,000 keys: 76.7 → 65.9 ms), and every other run does not carry their source (~430 KB, held by V8 for the
 * life of the process, ~1.4 MiB and 1-2 ms more for each run when they were in the CLI's bundle). execa (for
 * check and reload commands) is an ES module only package: from node_modules, its first import started
 * Node's ESM loader and resolved ~30 modules, ~57 ms; as a CommonJS file of its own, ~16 ms. Handlebars,
 * js-yaml (the file backend's YAML), diff (-noop) and minimatch (the file backend's globs) were a third of
 * the CLI's bundle and of its cache, which V8 reads whole: an etcd run with Go templates loaded ~220 KB of
 * source and ~280 KB of compiled code it never called (~3 ms of a 1,000-key run).
 */
const VENDORED = ['ioredis', 'node-zookeeper-client', 'execa', 'handlebars', 'js-yaml', 'diff', 'minimatch'];

/** Resolves the packages `filter` matches to an empty module: optional dependencies left out. */
const leftOut = (filter) => ({
  name: 'left-out',
  setup(build) {
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'left-out' }));
    build.onLoad({ filter: /.*/, namespace: 'left-out' }, () => ({ contents: 'module.exports = {};' }));
  },
});

/**
 * Handlebars requires source-map at load, only to map templates compiled with a srcName (confd-ts never
 * asks for one), and falls back to its own small SourceNode without it: leave the package out.
 */
const withoutSourceMap = leftOut(/^source-map$/);

/** In the CLI's bundle, a vendored library is its file next to the bundle (VENDORED). */
const vendored = {
  name: 'vendored',
  setup(build) {
    const names = new RegExp(`^(${VENDORED.join('|')})$`);
    build.onResolve({ filter: names }, (args) => ({ path: `./${args.path}.cjs`, external: true }));
  },
};

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

await rm(join(root, 'dist'), { recursive: true, force: true });
await mkdir(join(root, 'dist'));
/** What every file of dist/ is: one minified CommonJS script for Node 20. */
const commonjs = {
  absWorkingDir: root,
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
};

const result = await build({
  ...commonjs,
  entryPoints: { confd: 'src/cli/main.ts' },
  external: EXTERNAL,
  // import() becomes require(), inlined for our own modules: an import() in a vm.Script needs
  // --experimental-vm-modules, and the first one would start Node's ESM loader (~20 ms).
  supported: { 'dynamic-import': false },
  // ES modules are strict; bundled into one script, so is every module in it (as it was in the ESM build).
  // The bundle's own import.meta.url is the bundle's file URL (bin/load-bundle.js passes __filename), made
  // when first asked for: node:url's pathToFileURL costs ~0.4 ms, and most runs never ask.
  // The file is one function expression, called by bin/load-bundle.js with what a CommonJS module gets:
  // compiled as it is read, with no wrapper joined to a copy of it.
  banner: {
    js: '(function (exports, require, module, __filename, __dirname) {"use strict";const __confdBundle={get url(){return require("node:url").pathToFileURL(__filename).href}};',
  },
  footer: { js: '})' },
  sourcemap: true,
  // The version is fixed at build time: no package.json lookup relative to a module that has moved.
  define: { __CONFD_VERSION__: JSON.stringify(version), 'import.meta.url': '__confdBundle.url' },
  plugins: [withoutSourceMap, vendored],
  write: false,
});

// The vendored libraries, one CommonJS file each: module.exports is the library's. The first line names
// the version bundled (test/e2e/launcher.test.ts checks it against node_modules: a dist/ left from before an
// upgrade is stale); the rest is one function expression, as the CLI's bundle is (bin/load-bundle.js runs
// both the same way), and not strict: these are CommonJS modules. Class names are kept (ioredis checks
// one), CommonJS builds are taken over a package's ES module one (underscore's), and debug's optional
// supports-color is left out: it would come from whatever the dev install holds.
const libraries = [];
for (const name of VENDORED) {
  const { version: bundled } = JSON.parse(
    await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8'),
  );
  const library = await build({
    ...commonjs,
    entryPoints: { [name]: name },
    conditions: [],
    keepNames: true,
    supported: { 'dynamic-import': false },
    banner: {
      js: `/* ${name} ${bundled}, bundled by scripts/bundle.mjs */\n(function (exports, require, module, __filename, __dirname) {`,
    },
    footer: { js: '})' },
    plugins: [leftOut(/^supports-color$/), withoutSourceMap],
    write: false,
  });
  libraries.push(...library.outputFiles);
}

// Every script is checked before it is written (the source map as esbuild wrote it).
for (const file of [...result.outputFiles, ...libraries]) {
  const text = file.text;
  if (file.path.endsWith('.cjs')) {
    // ASCII only: bin/load-bundle.js reads the file as Latin-1 (a copy, where UTF-8 is a decode), and V8
    // holds a script with one character above U+00FF as a two-byte string, twice the memory of the whole
    // source for the life of the process. esbuild escapes string literals itself; what it cannot escape
    // (a String.raw template, a regular expression literal) must be written with \u escapes.
    const wide = text.match(/[\u0080-\uffff]/);
    if (wide)
      throw new Error(
        `${file.path}: a character outside ASCII (write it as a \\u escape): ${text.slice(Math.max(0, wide.index - 40), wide.index + 20)}`,
      );
    const left = text.match(/\bimport\s*\(/);
    if (left)
      throw new Error(
        `${file.path}: an import() left in a script: ${text.slice(left.index, left.index + 60)}`,
      );
  }
  await writeFile(file.path, text);
}

// The code cache, taken after a training run of the demo so that it holds the functions a run compiles
// lazily too. A separate process: the cache must be compiled with a plain node's V8 flags.
execFileSync(process.execPath, [join(root, 'scripts/code-cache.mjs')], {
  stdio: 'inherit',
  timeout: 600_000,
  killSignal: 'SIGKILL',
});
