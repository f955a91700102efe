/**
 * Burst: 200 updates of one key with no pause between them (each written once the previous one was
 * acknowledged; ZooKeeper's pipelined on one session), 5 tries per store: does the file end on the last value?
 */
import { emit, progress } from '../lib/record.js';
import { runs, type BenchOptions, type Scenario } from '../lib/scenario.js';
import { singleKeyWatch } from '../lib/single-key-watch.js';
import { median, msSince, round } from '../lib/stats.js';
import { benchStore } from '../lib/stores.js';

const updates = 200;

async function run(options: BenchOptions): Promise<void> {
  const tries = runs(options, 5, 2);
  for (const name of options.stores) {
    const store = await benchStore(name);
    progress(`burst: ${name}, ${tries} tries of ${updates} updates`);
    const watch = await singleKeyWatch(store, '/bench-burst');
    let ok = 0;
    const settle: number[] = [];
    try {
      for (let t = 0; t < tries; t++) {
        const values = Array.from({ length: updates }, (_, i) => `t${t}-v${i + 1}`);
        const last = values[values.length - 1] ?? '';
        const seen = watch.holds(last, 20_000);
        await store.setRapidly(watch.key, values);
        const written = process.hrtime.bigint();
        try {
          await seen;
          ok += 1;
          settle.push(msSince(written));
        } catch {
          progress(`burst: ${name} try ${t + 1} did not end on ${last}`);
        }
      }
      emit({
        scenario: 'burst',
        store: name,
        command: watch.daemon.command,
        updates,
        ended_on_last: ok,
        tries,
        result: `${ok}/${tries}`,
        last_write_to_file_median_ms: settle.length > 0 ? round(median(settle)) : null,
      });
    } finally {
      await watch.close();
    }
  }
}

export const burst: Scenario = {
  name: 'burst',
  summary: '200 updates with no pause end on the last value, k/5',
  run,
};
