/**
 * Cold start of the CLI as a user meets it, against the floor of a bare `node -e 0` measured in the same
 * run: each round starts the floor and every scenario once (interleaved, so machine noise hits all alike).
 * Prints one JSON line per scenario: the median over the runs after the warm-ups, the floor's median, and
 * their ratio. NODE_EXTRA_CA_CERTS is removed from the child environment: it adds ~130 ms to every node
 * start on machines that set it. Runs the built bundle (bin/confd loads dist/confd.mjs): `npm run build`.
 *
 *   npx tsx bench/startup.ts [runs]      (default 30 runs, after 3 warm-up rounds)
 *
 * startup-version:      node bin/confd --version
 * startup-onetime-demo: node bin/confd -onetime -sync-only -backend file -file example/data.yaml
 *                       -confdir . -config-file '' in a copy of conf.d/, templates/ and example/ (the output
 *                       file is removed before each run, so every run renders and writes)
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 30);
const WARMUPS = 3;
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const dir = await mkdtemp(join(tmpdir(), 'confd-bench-startup-'));
for (const part of ['conf.d', 'templates', 'example'])
  await cp(join(repo, part), join(dir, part), { recursive: true });

interface Scenario {
  name: string;
  args: string[];
  /** Shown in the JSON line: what a reader types to reproduce one run. */
  command: string;
  before?: () => void;
}

const confd = join(repo, 'bin/confd');
const floor: Scenario = { name: 'floor', args: ['-e', '0'], command: 'node -e 0' };
const scenarios: Scenario[] = [
  { name: 'startup-version', args: [confd, '--version'], command: 'node bin/confd --version' },
  {
    name: 'startup-onetime-demo',
    args: [
      confd,
      ...['-onetime', '-sync-only', '-backend', 'file', '-file', 'example/data.yaml', '-confdir', '.'],
      ...['-config-file', ''],
    ],
    command:
      "node bin/confd -onetime -sync-only -backend file -file example/data.yaml -confdir . -config-file '' " +
      '(in a copy of conf.d/ templates/ example/)',
    before: () => spawnSync('rm', ['-rf', join(dir, 'out')]),
  },
];

function once(scenario: Scenario): number {
  scenario.before?.();
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, scenario.args, {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${scenario.command} exited ${result.status}: ${result.stderr.toString()}`);
  }
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const all = [floor, ...scenarios];
const times = new Map<Scenario, number[]>(all.map((s) => [s, []]));
try {
  for (let round = 0; round < WARMUPS + runs; round++) {
    for (const scenario of all) {
      const ms = once(scenario);
      if (round >= WARMUPS) times.get(scenario)?.push(ms);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
const floorMs = median(times.get(floor) ?? []);
for (const scenario of scenarios) {
  const medianMs = median(times.get(scenario) ?? []);
  console.log(
    JSON.stringify({
      scenario: scenario.name,
      command: scenario.command,
      median_ms: round2(medianMs),
      floor_ms: round2(floorMs),
      floor_command: floor.command,
      ratio: round2(medianMs / floorMs),
      runs,
      node: process.version,
    }),
  );
}
