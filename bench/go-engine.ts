/**
 * Render time of the bundled Prometheus template over a 10,000-key store, through both engines: the
 * Handlebars original (templates/prometheus.yml.hbs) and its Go text/template twin (prometheus.yml.tmpl),
 * which must render the same file. Prints one JSON line with both medians. Timings are never asserted.
 *
 *   npx tsx bench/go-engine.ts [runs]      (default 30 runs per engine, after 5 warm-up runs)
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileTemplate } from '../src/template/compile-template.js';
import type { CompiledTemplate } from '../src/template/compile-template.js';
import { KVStore } from '../src/template/kv-store.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 30);

/** 500 jobs of 20 keys each (16 targets, metrics path, scrape interval, scheme, one spare), plus globals. */
function store(): KVStore {
  const pairs: Record<string, string> = {
    '/global/scrape_interval': '15s',
    '/global/evaluation_interval': '30s',
    '/global/external_labels/cluster': 'eu-west-1',
    '/global/external_labels/environment': 'production',
  };
  for (let j = 0; j < 500 && Object.keys(pairs).length < 10_000; j++) {
    const job = `/jobs/job${String(j).padStart(3, '0')}`;
    pairs[`${job}/metrics_path`] = '/metrics';
    pairs[`${job}/scrape_interval`] = `${10 + (j % 50)}s`;
    pairs[`${job}/scheme`] = j % 2 ? 'https' : 'http';
    pairs[`${job}/owner`] = `team-${j % 7}`;
    for (let t = 0; t < 16; t++) pairs[`${job}/targets/${t}`] = `10.${j >> 8}.${j & 255}.${t}:9100`;
  }
  return new KVStore(pairs);
}

async function time(template: CompiledTemplate, kv: KVStore): Promise<{ median: number; output: string }> {
  let output = '';
  for (let i = 0; i < 5; i++) output = await template.render(kv);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    output = await template.render(kv);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)] ?? NaN, output };
}

const kv = store();
const handlebars = await time(await compileTemplate(join(repo, 'templates/prometheus.yml.hbs')), kv);
const go = await time(await compileTemplate(join(repo, 'templates/prometheus.yml.tmpl')), kv);
if (go.output !== handlebars.output) throw new Error('the two engines rendered different files');
console.log(
  JSON.stringify({
    keys: 10_000,
    outputBytes: Buffer.byteLength(go.output),
    runs,
    node: process.version,
    handlebarsMedianMs: Number(handlebars.median.toFixed(2)),
    goMedianMs: Number(go.median.toFixed(2)),
  }),
);
