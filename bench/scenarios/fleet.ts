/**
 * Fleet: 10 and 50 confd -watch instances (one resource each, each its own confdir and destination
 * directory) on one prefix, as when every machine of a fleet runs this tool. Per instance: the watches the
 * store holds and the store reads per change; and the time until every instance's file is updated.
 */
import { emit, progress } from '../lib/record.js';
import { prefixFleet } from '../lib/prefix-fleet.js';
import { runs, type BenchOptions, type Scenario } from '../lib/scenario.js';
import { median, round } from '../lib/stats.js';
import { benchStore } from '../lib/stores.js';

async function run(options: BenchOptions): Promise<void> {
  const changes = runs(options, 5, 2);
  for (const name of options.stores) {
    const store = await benchStore(name);
    for (const instances of options.quick ? [10] : [10, 50]) {
      progress(`fleet: ${name}, ${instances} instances, ${changes} changes`);
      const fleet = await prefixFleet(store, `/bench-fleet-${instances}`, {
        instances,
        resources: 1,
        counted: true,
      });
      try {
        const series = await fleet.changes(changes, 'f');
        const rss = await Promise.all(fleet.daemons.map(async (d) => (await d.memory()).rssMiB));
        emit({
          scenario: 'fleet',
          store: name,
          instances,
          command: `${instances} × ${fleet.command}`,
          all_updated_p50_ms: round(series.p50),
          watches_per_instance: round(series.watches / instances, 2),
          watches_counted: store.watchesCounted,
          reads_per_change_per_instance: round(series.readsPerChange / instances, 2),
          ...(series.rearmsPerChange !== undefined
            ? { watch_requests_per_change_per_instance: round(series.rearmsPerChange / instances, 2) }
            : {}),
          ...(series.commandsPerChange !== undefined
            ? { read_commands_per_change_per_instance: round(series.commandsPerChange / instances, 2) }
            : {}),
          reads_counted: store.readsCounted,
          rss_median_mib: round(median(rss)),
          changes,
        });
      } finally {
        await fleet.close();
      }
    }
  }
}

export const fleet: Scenario = {
  name: 'fleet',
  summary: '10 and 50 instances on one prefix: watches and reads per instance',
  run,
};
