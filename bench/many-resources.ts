/**
 * `confd -onetime` over many small resources with the file backend: each resource has its own template
 * (Go syntax, one getv) and its own dest, all reading one data.yaml. Two paths are timed, each a fresh
 * node process per run:
 * - updated: every value changes between runs, so every dest is rewritten (stage, fsync, rename);
 * - in sync: the same data again, so every dest is read and compared and nothing is written.
 * The floor is a bare `node -e 0` measured in the same run. NODE_EXTRA_CA_CERTS is removed from the child
 * environment (it adds ~130 ms to every node start). Prints one JSON line.
 *
 *   npx tsx bench/many-resources.ts [resources] [runs]      (default 2000 resources, 7 runs)
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const resources = Number(process.argv[2] ?? 2000);
const runs = Number(process.argv[3] ?? 7);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const dir = await mkdtemp(join(tmpdir(), 'confd-many-'));
await mkdir(join(dir, 'conf.d'));
await mkdir(join(dir, 'templates'));
await mkdir(join(dir, 'out'));
for (let i = 0; i < resources; i++) {
  await writeFile(
    join(dir, 'conf.d', `r${i}.toml`),
    `[template]\nsrc = "r${i}.tmpl"\ndest = "out/r${i}.conf"\nkeys = ["/svc/r${i}"]\nmode = "0644"\n`,
  );
  await writeFile(
    join(dir, 'templates', `r${i}.tmpl`),
    `name = r${i}\nvalue = {{getv "/svc/r${i}/value"}}\n`,
  );
}

async function writeData(generation: number): Promise<void> {
  const lines = ['svc:'];
  for (let i = 0; i < resources; i++) lines.push(`  r${i}:`, `    value: v${generation}-${i}`);
  await writeFile(join(dir, 'data.yaml'), `${lines.join('\n')}\n`);
}

const confdArgs = [
  join(repo, 'bin/confd'),
  '-onetime',
  '-sync-only',
  '-backend',
  'file',
  '-file',
  'data.yaml',
  '-confdir',
  '.',
  '-config-file',
  '',
  '-log-level',
  'warn',
];

function timed(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`exited ${result.status}: ${result.stderr.toString()}`);
  return ms;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const updated: number[] = [];
const insync: number[] = [];
const floor: number[] = [];
let generation = 0;
await writeData(generation);
timed(confdArgs); // warm-up: creates every dest
for (let run = 0; run < runs; run++) {
  floor.push(timed(['-e', '0']));
  await writeData(++generation);
  updated.push(timed(confdArgs));
  insync.push(timed(confdArgs));
}
await rm(dir, { recursive: true, force: true });

const round = (ms: number, digits: number): number => Number(ms.toFixed(digits));
const floorMs = median(floor);
console.log(
  JSON.stringify({
    scenario: 'many-resources',
    resources,
    runs,
    updated_median_s: round(median(updated) / 1000, 3),
    insync_median_s: round(median(insync) / 1000, 3),
    floor_ms: round(floorMs, 1),
    updated_ratio_to_floor: round(median(updated) / floorMs, 1),
    insync_ratio_to_floor: round(median(insync) / floorMs, 1),
    node: process.version,
    command: `npx tsx bench/many-resources.ts ${resources} ${runs}`,
  }),
);
