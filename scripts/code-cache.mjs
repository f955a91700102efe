// Writes dist/confd.cache: V8's code cache of dist/confd.cjs, taken after a training run so that it holds
// the functions a run compiles lazily as well as the bundle's top level. Run by scripts/bundle.mjs.
//
// The training is the bundled example (file backend, YAML data, the Handlebars and the Go template of
// conf.d/prometheus.toml) rendered twice into a throwaway directory: once written, once found in sync. What
// it does not reach (the store clients, watch mode) compiles lazily at run time, as without a cache.
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

  const loaded = loadBundle({ useCache: false });
  for (let run = 0; run < 2; run += 1) {
    // Under V8's default flags, which every run starts with: V8 stamps the cache with the flags it is
    // written under and rejects it under others, and a run sets its own (src/cli/v8-tuning.ts).
    const code = await loaded.exports.main(args, { ...process.env, CONFD_V8_TUNING: 'off' });
    if (code !== 0) throw new Error(`code cache: the training run exited with ${code}`);
  }
  writeCodeCache(loaded);
} finally {
  rmSync(work, { recursive: true, force: true });
}
