// Writes dist/confd.cache: V8's code cache of dist/confd.cjs, taken after a training run so that it holds
// the functions a run compiles lazily as well as the bundle's top level; and dist/<name>.cache for each
// library of its own file the training loads (Handlebars, js-yaml). Run by scripts/bundle.mjs.
//
// The training is the bundled example (file backend, YAML data, the Handlebars and the Go template of
// conf.d/prometheus.toml) rendered twice into a throwaway directory: once written, once found in sync. What
// it does not reach (the store clients, watch mode, the libraries it does not load) compiles lazily at run
// time, as without a cache.
//
// V8 stamps a cache with the flags it is written under and refuses it under others, and a run sets its
// own flags once its backend is loaded (src/cli/v8-tuning.ts): the CLI's bundle, and a library loaded
// before that point (js-yaml, for the file backend), is compiled under V8's defaults; a library loaded
// later (Handlebars, once conf.d names a .hbs template) under the run's. So the training runs twice, in
// two processes: under the defaults (CONFD_V8_TUNING=off), which writes every cache; then as a tuned
// `-onetime` run (--tuned), which writes again the cache of each library V8 refused there, under that
// run's flags. Onetime runs, where start-up counts, so take every cache; a daemon compiles such a library
// once, at its first render.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

// bin/ is CommonJS (bin/package.json): the launcher must not start Node's ESM loader.
const { loadBundle, writeCodeCache } = createRequire(import.meta.url)('../bin/load-bundle.js');
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const work = mkdtempSync(join(tmpdir(), 'confd-code-cache-'));
try {
  mkdirSync(join(work, 'conf.d'));
  mkdirSync(join(work, 'templates'));
  for (const name of ['prometheus.yml.hbs', 'prometheus.yml.tmpl']) {
    copyFileSync(join(root, 'templates', name), join(work, 'templates', name));
  }
  for (const [name, src] of [
    ['hbs', 'prometheus.yml.hbs'],
    ['go', 'prometheus.yml.tmpl'],
  ]) {
    const resource = `[template]\nsrc = "${src}"\ndest = "${join(work, `out-${name}.yml`)}"\nprefix = "/prometheus"\nkeys = ["/global", "/jobs"]\nmode = "0644"\n`;
    writeFileSync(join(work, 'conf.d', `${name}.toml`), resource);
  }
  const args = ['-onetime', '-backend', 'file', '-file', join(root, 'example/data.yaml'), '-confdir', work];
  args.push('-config-file', '', '-log-level', 'error');

  const tuned = process.argv[2] === '--tuned';
  const loaded = loadBundle({ useCache: tuned });
  const env = { ...process.env };
  if (tuned) delete env.CONFD_V8_TUNING;
  else env.CONFD_V8_TUNING = 'off';
  for (let run = 0; run < 2; run += 1) {
    const code = await loaded.exports.main(args, env);
    if (code !== 0) throw new Error(`code cache: the training run exited with ${code}`);
  }
  if (!tuned) writeCodeCache(loaded);
  else {
    if (!loaded.cached) throw new Error("code cache: the tuned run refused the CLI bundle's own cache");
    writeCodeCache({ scripts: loaded.scripts.filter((script) => !script.cached) });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (process.argv[2] !== '--tuned')
  execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--tuned'], { stdio: 'inherit' });
