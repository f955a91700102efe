/**
 * The benchmark suite (issue 9): starts the real stores through scripts/stores.sh (throwaway data dirs,
 * stopped at the end, also on failure or Ctrl-C) and runs the scenarios against bin/confd, each printing one
 * JSON line (also appended to bench/results/<date>.jsonl). `npm run bench:report` makes the tables.
 *
 *   npm run bench [-- [--quick] [--stores etcd,consul] [scenario...]]
 *
 * Scenarios: startup onetime-keys watch-latency fan-out growth burst fleet many-resources (default: all).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { childEnv, confdBin, repoRoot } from './lib/confd.js';
import { emit, progress, runId } from './lib/record.js';
import type { BenchOptions, Scenario } from './lib/scenario.js';
import { round } from './lib/stats.js';
import { closeStores, storeNames, type StoreName } from './lib/stores.js';
import { burst } from './scenarios/burst.js';
import { fanOut, growthWatch } from './scenarios/fan-out.js';
import { fleet } from './scenarios/fleet.js';
import { manyResources } from './scenarios/many-resources.js';
import { onetimeKeys } from './scenarios/onetime-keys.js';
import { startup } from './scenarios/startup.js';
import { watchLatency } from './scenarios/watch-latency.js';

const scenarios: Scenario[] = [
  startup,
  onetimeKeys,
  watchLatency,
  fanOut,
  growthWatch,
  burst,
  fleet,
  // Last: it deletes ~30,000 files when it ends, and on a disk without a journal every file created in the
  // next 60 s pays for them (see the scenario).
  manyResources,
];

function parseArgs(argv: string[]): { options: BenchOptions; selected: Scenario[] } {
  let quick = false;
  let stores: StoreName[] = storeNames;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--quick') quick = true;
    else if (arg === '--stores') {
      const list = (argv[++i] ?? '').split(',').filter(Boolean);
      const unknown = list.filter((s) => !storeNames.includes(s as StoreName));
      if (unknown.length > 0)
        throw new Error(`unknown store(s): ${unknown.join(', ')} (stores: ${storeNames.join(', ')})`);
      stores = list as StoreName[];
    } else if (arg === '--help' || arg === '-h') {
      console.log(
        `usage: npm run bench -- [--quick] [--stores ${storeNames.join(',')}] [scenario...]\n` +
          scenarios.map((s) => `  ${s.name.padEnd(15)} ${s.summary}`).join('\n'),
      );
      process.exit(0);
    } else names.push(arg);
  }
  const unknown = names.filter((n) => !scenarios.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (see --help)`);
  const selected = names.length === 0 ? scenarios : scenarios.filter((s) => names.includes(s.name));
  return { options: { quick, stores }, selected };
}

/** GNU time gives the peak RSS of a child; Debian's `time` package, installed on first use. */
function ensureGnuTime(): void {
  if (existsSync('/usr/bin/time')) return;
  progress('installing GNU time (apt-get install -y time)');
  execFileSync('apt-get', ['install', '-y', '-q', 'time'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** bin/confd must start at all (a missing or stale build): one clear error instead of every scenario failing. */
function preflight(): void {
  const r = spawnSync(confdBin, ['--version'], { env: childEnv(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bin/confd --version failed (run \`npm run build\`?):\n${r.stderr}`);
}

function machine(): Record<string, unknown> {
  const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  let commit = '';
  try {
    commit = sh('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']);
  } catch {
    // Not a git checkout: the commit stays unknown.
  }
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? '',
    memory_gib: round(totalmem() / 2 ** 30),
    node: process.version,
    uname: sh('uname', ['-srvm']),
    commit,
    loadavg: loadavg().map((l) => round(l, 2)),
  };
}

async function main(): Promise<void> {
  const { options, selected } = parseArgs(process.argv.slice(2));
  preflight();
  ensureGnuTime();
  const stop = (signal: NodeJS.Signals): void => {
    progress(`${signal}: stopping the stores`);
    void closeStores().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  emit({
    scenario: 'machine',
    command:
      process.argv.length > 2 ? `npm run bench -- ${process.argv.slice(2).join(' ')}` : 'npm run bench',
    quick: options.quick,
    scenarios: selected.map((s) => s.name),
    ...machine(),
  });
  const failed: string[] = [];
  try {
    for (const scenario of selected) {
      try {
        await scenario.run(options);
      } catch (err) {
        // One broken scenario must not hide the figures of the others.
        failed.push(scenario.name);
        progress(
          `${scenario.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
        emit({
          scenario: 'failed',
          failed: scenario.name,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  } finally {
    emit({ scenario: 'machine-end', loadavg: loadavg().map((l) => round(l, 2)), failed });
    await closeStores();
  }
  progress(`run ${runId} done${failed.length > 0 ? `, failed: ${failed.join(', ')}` : ''}`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}

await main();
