/**
 * Onetime reads: `confd -onetime` rendering every key of a prefix holding 1,000 / 10,000 / 100,000 keys,
 * loaded beforehand with the store's own client. Wall time and peak RSS (GNU time) of each run; the
 * destination is removed before each run, so every run reads, renders and writes. Each run follows a bare
 * `node -e 0` under the same GNU time: this machine's speed moves by a fifth within minutes, and the
 * targets are absolute, so the ratio to that floor tells a slower minute from a slower build. On etcd and
 * Consul a second floor runs in the same turn: the store's transport floor (bench/floors/), a bare script
 * that only connects with the Node.js module confd-ts's client runs on (node:http2, node:http), reads the
 * prefix in one request and exits. What confd-ts takes above it is its own work: loading, conf.d, decoding,
 * rendering, the durable write.
 */
import { readFile, rm } from 'node:fs/promises';
import { commandLine, confdBin, timedRun, Workspace } from '../lib/confd.js';
import { emit, progress } from '../lib/record.js';
import { runs, type BenchOptions, type Scenario } from '../lib/scenario.js';
import { median, quantile, round } from '../lib/stats.js';
import { benchStore, type StoreName } from '../lib/stores.js';
import { msSince } from '../lib/stats.js';

/** The growth table: 1,000, 10,000 and 100,000 keys on every store. */
const sizes: Record<StoreName, number[]> = {
  etcd: [1_000, 10_000, 100_000],
  consul: [1_000, 10_000, 100_000],
  zookeeper: [1_000, 10_000, 100_000],
  redis: [1_000, 10_000, 100_000],
};

export const keyEntries = (prefix: string, count: number): Array<[string, string]> =>
  Array.from({ length: count }, (_, i) => [`${prefix}/k/${String(i).padStart(6, '0')}`, `value-${i}`]);

async function run(options: BenchOptions): Promise<void> {
  const failures: string[] = [];
  for (const name of options.stores) {
    const store = await benchStore(name);
    for (const count of sizes[name].filter((c) => !options.quick || c <= 10_000)) {
      const prefix = `/bench-onetime-${count}`;
      const n = runs(options, count >= 100_000 ? 5 : 15, 3);
      const loadStart = process.hrtime.bigint();
      await store.load(prefix, keyEntries(prefix, count));
      progress(
        `onetime-keys: ${name} ${count} keys loaded in ${(msSince(loadStart) / 1000).toFixed(1)} s, ${n} runs`,
      );
      const ws = await Workspace.create(`onetime-${name}`);
      try {
        await ws.template('keys.tmpl', '{{range gets "/k/*"}}{{.Key}}={{.Value}}\n{{end}}');
        await ws.resource('keys', { src: 'keys.tmpl', dest: ws.path('out/keys.conf'), prefix, keys: ['/k'] });
        const args = ['-onetime', ...store.confdArgs(), '-confdir', '.', '-config-file', ''];
        const floorArgs = store.transportFloorArgs?.(prefix);
        const times: number[] = [];
        const rss: number[] = [];
        const floor: number[] = [];
        const transport: number[] = [];
        for (let i = -1; i < n; i++) {
          await rm(ws.path('out/keys.conf'), { force: true });
          const bare = await timedRun(process.execPath, ['-e', '0'], ws.root);
          const read = floorArgs && (await timedRun(process.execPath, floorArgs, ws.root));
          // A floor that did not get every key would be a floor of nothing.
          if (read && read.stdout.trim() !== String(count))
            throw new Error(`${name}: the transport floor read ${read.stdout.trim()} keys of ${count}`);
          const r = await timedRun(confdBin, args, ws.root);
          if (i < 0) continue;
          floor.push(bare.ms);
          if (read) transport.push(read.ms);
          times.push(r.ms);
          rss.push(r.rssMiB);
        }
        // A fast run that rendered the wrong thing would be no figure at all.
        const lines = (await readFile(ws.path('out/keys.conf'), 'utf8')).split('\n').filter(Boolean).length;
        if (lines !== count) throw new Error(`${name}: rendered ${lines} keys of ${count}`);
        emit({
          scenario: 'onetime-keys',
          store: name,
          keys: count,
          command: commandLine(confdBin, args),
          median_ms: round(median(times)),
          p90_ms: round(quantile(times, 0.9)),
          rss_mib: round(Math.max(...rss)),
          rss_median_mib: round(median(rss)),
          us_per_key: round((median(times) * 1000) / count, 2),
          floor_ms: round(median(floor)),
          floor_command: 'node -e 0',
          ratio: round(median(times) / median(floor), 2),
          ...(floorArgs && {
            transport_floor_ms: round(median(transport)),
            transport_floor_command: commandLine(process.execPath, floorArgs),
            transport_ratio: round(median(times) / median(transport), 2),
          }),
          runs: n,
        });
      } catch (err) {
        // A size confd cannot read is a figure too (a missed target); the other sizes and stores still run.
        const message = err instanceof Error ? err.message : String(err);
        // confd's own ERROR line names the failure without values; else the driver's own message.
        const reason =
          /ERROR [^:]+: (.*)$/m.exec(message)?.[1] ??
          message.split('\n').find((l) => /error/i.test(l)) ??
          message.split('\n')[0] ??
          '';
        failures.push(`${name} ${count}: ${reason}`);
        emit({
          scenario: 'onetime-keys',
          store: name,
          keys: count,
          command: commandLine(confdBin, [
            '-onetime',
            ...store.confdArgs(),
            '-confdir',
            '.',
            '-config-file',
            '',
          ]),
          error: reason,
        });
      } finally {
        await ws.remove();
        await store.clear(prefix);
      }
    }
  }
  if (failures.length > 0) throw new Error(`confd failed: ${failures.join('; ')}`);
}

export const onetimeKeys: Scenario = {
  name: 'onetime-keys',
  summary: 'confd -onetime over 1k/10k(/100k) keys per store: median wall ms, peak RSS',
  run,
};
