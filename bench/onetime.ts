/**
 * Wall time of `confd -onetime` on the bundled demo (file backend, Prometheus example), as a user runs it:
 * a fresh node process each time. NODE_EXTRA_CA_CERTS is removed from the child environment because it
 * adds ~130 ms to every node start on machines that set it.
 *
 *   npx tsx bench/onetime.ts [runs]      (default 30 runs, after 3 warm-up runs)
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 30);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const dir = await mkdtemp(join(tmpdir(), 'confd-bench-'));
for (const part of ['conf.d', 'templates', 'example'])
  await cp(join(repo, part), join(dir, part), { recursive: true });
const args = [
  join(repo, 'bin/confd'),
  '-onetime',
  '-backend',
  'file',
  '-file',
  'example/data.yaml',
  '-confdir',
  '.',
];

function once(): number {
  // Each run starts from no output file, so every run renders and writes (the "updated" path).
  spawnSync('rm', ['-rf', join(dir, 'out')]);
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`confd exited ${result.status}: ${result.stderr.toString()}`);
  return ms;
}

for (let i = 0; i < 3; i++) once();
const times = Array.from({ length: runs }, once).sort((a, b) => a - b);
const pick = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
await rm(dir, { recursive: true, force: true });
console.log(
  `confd -onetime (demo, ${runs} runs, node ${process.version}): ` +
    `min ${pick(0).toFixed(0)} ms, median ${pick(0.5).toFixed(0)} ms, p90 ${pick(0.9).toFixed(0)} ms`,
);
