/**
 * Fan-out: one confd -watch with 100 resources on one prefix (each its own destination); one change under
 * the prefix → time until all 100 files hold it (p50 over the changes), the store's reads per change, the
 * watches it holds, and the daemon's RSS after the updates. Consul goes through the driver's counting proxy.
 *
 * Its floor: the same files replaced durably by a plain script (lib/disk-floor.ts), one round before each
 * change, since on a disk whose fsync takes a millisecond the files themselves are most of the figure.
 *
 * Growth (watch side): the same with 10 / 100 / 1,000 resources, cost per resource per change.
 */
import { emit, progress } from '../lib/record.js';
import { prefixFleet } from '../lib/prefix-fleet.js';
import { runs, type BenchOptions, type Scenario } from '../lib/scenario.js';
import { median, quantile, round } from '../lib/stats.js';
import { benchStore, type StoreName } from '../lib/stores.js';

async function measure(name: StoreName, resources: number, changes: number, scenario: string): Promise<void> {
  const store = await benchStore(name);
  progress(`${scenario}: ${name}, ${resources} resources, ${changes} changes`);
  const fleet = await prefixFleet(store, `/bench-fan-${resources}`, {
    instances: 1,
    resources,
    counted: true,
    diskFloor: true,
  });
  try {
    const series = await fleet.changes(changes, 'c');
    const daemon = fleet.daemons[0];
    const memory = daemon ? await daemon.memory() : { rssMiB: NaN, hwmMiB: NaN };
    emit({
      scenario,
      store: name,
      resources,
      command: fleet.command,
      p50_ms: round(series.p50),
      p90_ms: round(quantile(series.samples, 0.9)),
      per_resource_ms: round(series.p50 / resources, 3),
      ...(series.floorSamples
        ? {
            floor_p50_ms: round(median(series.floorSamples)),
            floor: `the same ${resources} files replaced by a plain node script (stage, fsync, rename; 32 at a time; one directory fsync)`,
            ratio: round(series.p50 / median(series.floorSamples), 2),
          }
        : {}),
      reads_per_change: round(series.readsPerChange, 2),
      ...(series.rearmsPerChange !== undefined
        ? { watch_requests_per_change: round(series.rearmsPerChange, 2) }
        : {}),
      ...(series.commandsPerChange !== undefined
        ? { read_commands_per_change: round(series.commandsPerChange, 2) }
        : {}),
      reads_counted: store.readsCounted,
      watches: series.watches,
      watches_counted: store.watchesCounted,
      rss_mib: round(memory.rssMiB),
      hwm_mib: round(memory.hwmMiB),
      changes,
    });
  } finally {
    await fleet.close();
  }
}

export const fanOut: Scenario = {
  name: 'fan-out',
  summary: '100 resources on one prefix: one change → all 100 files, p50; reads per change; RSS',
  async run(options: BenchOptions) {
    for (const name of options.stores) await measure(name, 100, runs(options, 20, 3), 'fan-out');
  },
};

/** The store of the growth series: the one whose client is the fastest to follow and count (Range RPCs). */
const growthStore: StoreName = 'etcd';

export const growthWatch: Scenario = {
  name: 'growth',
  summary: 'watch with 10/100/1,000 resources on etcd: cost per resource per change',
  async run(options: BenchOptions) {
    for (const resources of [10, 100, 1_000]) {
      await measure(growthStore, resources, runs(options, 10, 2), 'growth-watch');
    }
  },
};
