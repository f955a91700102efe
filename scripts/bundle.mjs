// Bundles the CLI into dist/confd.mjs, the file bin/confd loads: one file to read and compile instead of
// ~150 modules and ~400 package files, which was most of a cold start. Code splitting keeps every dynamic
// import() a separate chunk loaded on first use (store clients, the template engines, the metrics
// endpoint, ...). The small pure-JavaScript packages a run may need (yaml, Handlebars, smol-toml, minimatch,
// ...) are bundled into those chunks. The store clients and the other packages in EXTERNAL stay in
// node_modules, loaded from there on first use: they are only needed by some runs, and some find files next
// to themselves or ship native code. tsc stays the type checker
// (npm run build runs it first); this only transpiles.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXTERNAL = [
  // Bundled, cockatiel's CommonJS build loses its named exports under import(); only daemons load it.
  'cockatiel',
  'node-zookeeper-client',
  'consul',
  'ioredis',
  'execa',
  'prom-client',
];

/**
 * Handlebars requires source-map at load, only to map templates compiled with a srcName (confd-ts never
 * asks for one), and falls back to its own small SourceNode without it: leave the package out.
 */
const withoutSourceMap = {
  name: 'without-source-map',
  setup(build) {
    build.onResolve({ filter: /^source-map$/ }, () => ({ path: 'source-map', namespace: 'left-out' }));
    build.onLoad({ filter: /.*/, namespace: 'left-out' }, () => ({ contents: 'module.exports = {};' }));
  },
};

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

await rm(join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { confd: 'src/cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // Bundled CommonJS packages require() Node's built-ins: give the ESM chunks a require to do it with.
  banner: {
    js: "import { createRequire as __confdCreateRequire } from 'node:module'; const require = __confdCreateRequire(import.meta.url);",
  },
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  // The version is fixed at build time: no package.json lookup relative to a module that has moved.
  define: { __CONFD_VERSION__: JSON.stringify(version) },
  plugins: [withoutSourceMap],
  logLevel: 'warning',
});
