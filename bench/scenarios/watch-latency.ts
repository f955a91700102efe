/**
 * Watch latency: the driver writes one key and times until confd -watch has renamed the new content onto
 * the destination (seen through fs.watch), N samples one after the other. The floor is the store's own
 * notification latency: the same write seen by a native watch in the driver, measured just before.
 */
import { emit, progress } from '../lib/record.js';
import { runs, type BenchOptions, type Scenario } from '../lib/scenario.js';
import { singleKeyWatch } from '../lib/single-key-watch.js';
import { msSince, quantile, round } from '../lib/stats.js';
import { benchStore } from '../lib/stores.js';

const warmUp = 10;

async function run(options: BenchOptions): Promise<void> {
  const n = runs(options, 200, 20);
  for (const name of options.stores) {
    const store = await benchStore(name);
    progress(`watch-latency: ${name}, ${n} samples (floor first)`);
    const floor = (await store.nativeLatency('/bench-floor/key', n + warmUp)).slice(warmUp);
    await store.clear('/bench-floor');
    const watch = await singleKeyWatch(store, '/bench-lat');
    try {
      const samples: number[] = [];
      for (let i = -warmUp; i < n; i++) {
        const value = `v${i + warmUp}`;
        const seen = watch.holds(value);
        const start = process.hrtime.bigint();
        await store.set(watch.key, value);
        await seen;
        if (i >= 0) samples.push(msSince(start));
      }
      const memory = await watch.daemon.memory();
      const p50 = quantile(samples, 0.5);
      const floorP50 = quantile(floor, 0.5);
      emit({
        scenario: 'watch-latency',
        store: name,
        command: watch.daemon.command,
        p50_ms: round(p50, 2),
        p99_ms: round(quantile(samples, 0.99), 2),
        floor_p50_ms: round(floorP50, 2),
        floor_p99_ms: round(quantile(floor, 0.99), 2),
        floor: `native ${name} watch in the driver (${store.name === 'consul' ? 'blocking query' : store.name === 'redis' ? 'keyspace notification' : store.name === 'zookeeper' ? 'getData watch' : 'etcd3 watch'})`,
        above_floor_ms: round(p50 - floorP50, 2),
        ratio: round(p50 / floorP50, 2),
        rss_mib: round(memory.rssMiB),
        samples: n,
      });
    } finally {
      await watch.close();
    }
  }
}

export const watchLatency: Scenario = {
  name: 'watch-latency',
  summary: 'write one key → dest renamed, p50/p99, vs the store’s native watch',
  run,
};
