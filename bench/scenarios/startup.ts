/**
 * Start-up: `bin/confd --version`, and `-onetime -sync-only` on the bundled file-backend demo (the
 * "updated" path: out/ is removed before each run), against a bare `node -e 0` started the same way, the
 * three interleaved run by run so that load on the shared machine hits them alike.
 */
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { commandLine, confdBin, repoRoot, timedRun, Workspace } from '../lib/confd.js';
import { emit, progress } from '../lib/record.js';
import { runs, type BenchOptions, type Scenario } from '../lib/scenario.js';
import { median, quantile, round } from '../lib/stats.js';

const versionArgs = ['--version'];
const demoArgs = [
  '-onetime',
  '-sync-only',
  '-backend',
  'file',
  '-file',
  'example/data.yaml',
  '-confdir',
  '.',
  '-config-file',
  '',
];
const floorArgs = ['-e', '0'];

async function run(options: BenchOptions): Promise<void> {
  const n = runs(options, 30, 5);
  const ws = await Workspace.create('startup');
  try {
    for (const part of ['conf.d', 'templates', 'example'])
      await cp(join(repoRoot, part), ws.path(part), { recursive: true });
    const floor: number[] = [];
    const version: number[] = [];
    const demo: number[] = [];
    const rss = { floor: [] as number[], version: [] as number[], demo: [] as number[] };
    progress(`startup: ${n} runs of each (after 3 warm-ups)`);
    for (let i = -3; i < n; i++) {
      const f = await timedRun(process.execPath, floorArgs, ws.root);
      const v = await timedRun(confdBin, versionArgs, ws.root);
      await rm(ws.path('out'), { recursive: true, force: true });
      const d = await timedRun(confdBin, demoArgs, ws.root);
      if (i < 0) continue;
      floor.push(f.ms);
      version.push(v.ms);
      demo.push(d.ms);
      rss.floor.push(f.rssMiB);
      rss.version.push(v.rssMiB);
      rss.demo.push(d.rssMiB);
    }
    const floorMs = median(floor);
    const common = {
      floor_ms: round(floorMs),
      floor_command: commandLine(process.execPath, floorArgs),
      floor_rss_mib: round(median(rss.floor)),
      runs: n,
    };
    for (const [scenario, args, times, mem] of [
      ['startup-version', versionArgs, version, rss.version],
      ['startup-onetime-demo', demoArgs, demo, rss.demo],
    ] as const) {
      emit({
        scenario,
        command: commandLine(confdBin, args),
        median_ms: round(median(times)),
        p90_ms: round(quantile(times, 0.9)),
        min_ms: round(Math.min(...times)),
        rss_mib: round(median(mem)),
        ...common,
        ratio: round(median(times) / floorMs, 2),
      });
    }
  } finally {
    await ws.remove();
  }
}

export const startup: Scenario = {
  name: 'startup',
  summary: 'confd --version and -onetime on the demo vs node -e 0',
  run,
};
