/**
 * Fan-out in watch mode with the file backend: N resources (default 100) share one prefix; each change of
 * the one value they all read must reach all N files. Measured per change, from the rename of the new
 * data file to the moment the last of the N dests holds the new value (seen through an fs.watch on their
 * directory, each reported file read back). The floor is the store's own notification latency: the same
 * rename seen by an fs.watch on the data file's directory in this driver. Store load per change comes from
 * the daemon's own metrics (confd_backend_requests_total, op read). Prints one JSON line.
 *
 *   npx tsx bench/fan-out.ts [resources] [changes]      (default 100 resources, 40 changes)
 *   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx tsx bench/fan-out.ts    (profiles the daemon)
 */
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const resources = Number(process.argv[2] ?? 100);
const changes = Number(process.argv[3] ?? 40);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const dir = await mkdtemp(join(tmpdir(), 'confd-fanout-'));
const out = join(dir, 'out');
const storeDir = join(dir, 'store');
await mkdir(join(dir, 'conf.d'));
await mkdir(join(dir, 'templates'));
await mkdir(out);
await mkdir(storeDir);
for (let i = 0; i < resources; i++) {
  await writeFile(
    join(dir, 'conf.d', `r${i}.toml`),
    `[template]\nsrc = "r${i}.tmpl"\ndest = "out/r${i}.conf"\nprefix = "/app"\nkeys = ["/shared"]\n`,
  );
  await writeFile(join(dir, 'templates', `r${i}.tmpl`), `r${i} = {{getv "/shared/value"}}\n`);
}
const dataFile = join(storeDir, 'data.yaml');

/** Replaces the data file the way a deploy tool does: a new file renamed over the old one. */
async function setValue(value: string): Promise<void> {
  const next = join(storeDir, '.data.yaml.next');
  await writeFile(next, `app:\n  shared:\n    value: ${value}\n`);
  await rename(next, dataFile);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function readsSoFar(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('confd_backend_requests_total') && line.includes('op="read"'))
      total += Number(line.split(' ').pop());
  return total;
}

/** Resolves with the time the last of the dests held `value`. */
function allHold(value: string): Promise<number> {
  const pending = new Set(Array.from({ length: resources }, (_, i) => `r${i}.conf`));
  return new Promise((done) => {
    const check = async (name: string): Promise<void> => {
      if (!pending.has(name)) return;
      const text = await readFile(join(out, name), 'utf8').catch(() => '');
      if (!text.endsWith(` = ${value}\n`) || !pending.delete(name)) return;
      if (pending.size === 0) {
        watcher.close();
        done(performance.now());
      }
    };
    const watcher = watch(out, (_, name) => {
      if (name) void check(name);
    });
    // Files already right before the watch started count too.
    for (const name of [...pending]) void check(name);
  });
}

const port = await freePort();
await setValue('v0');
const ready = allHold('v0');
const daemon = spawn(
  process.execPath,
  [
    // e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the daemon.
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    join(repo, 'bin/confd'),
    '-watch',
    '-sync-only',
    '-backend',
    'file',
    '-file',
    dataFile,
    '-confdir',
    '.',
    '-config-file',
    '',
    '-log-level',
    'warn',
    '-metrics-addr',
    `127.0.0.1:${port}`,
  ],
  { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] },
);
await ready;
await sleep(300);

const latencies: number[] = [];
const floors: number[] = [];
let reads = 0;
for (let change = 1; change <= changes; change++) {
  const value = `v${change}`;
  const before = await readsSoFar(port);
  const updated = allHold(value);
  const seen = new Promise<number>((done) => {
    const watcher = watch(storeDir, (_, name) => {
      if (name !== 'data.yaml') return;
      watcher.close();
      done(performance.now());
    });
  });
  const start = performance.now();
  await setValue(value);
  floors.push((await seen) - start);
  latencies.push((await updated) - start);
  // The daemon's read follows the last file event; let it settle before counting.
  await sleep(100);
  reads += (await readsSoFar(port)) - before;
}
daemon.kill('SIGTERM');
await new Promise((done) => daemon.once('exit', done));
await rm(dir, { recursive: true, force: true });

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
const round = (ms: number): number => Number(ms.toFixed(2));
console.log(
  JSON.stringify({
    scenario: 'fan-out',
    backend: 'file',
    resources,
    changes,
    all_updated_p50_ms: round(quantile(latencies, 0.5)),
    all_updated_p99_ms: round(quantile(latencies, 0.99)),
    floor_p50_ms: round(quantile(floors, 0.5)),
    floor_p99_ms: round(quantile(floors, 0.99)),
    reads_per_change: round(reads / changes),
    node: process.version,
    command: `npx tsx bench/fan-out.ts ${resources} ${changes}`,
  }),
);
