/**
 * `confd -onetime -backend etcd` over 1,000 and 10,000 keys, as a user runs it: a fresh node process each
 * time, against a throwaway etcd (scripts/stores.sh), next to `node -e 0` measured in the same run (the
 * floor), and `confd --version` (confd's own start-up, what any backend pays). Peak RSS comes from
 * /usr/bin/time -f %M. Prints one JSON line per key count. Timings are never
 * asserted anywhere; they are noisy on a shared machine, so compare the ratio to the floor.
 *
 *   npx tsx bench/etcd-onetime.ts [runs] [keys...]     (default 15 runs, 1000 and 10000 keys)
 *   ETCD_ENDPOINT=host:port uses a running etcd instead of starting one (keys go under /bench-N).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 15);
const counts = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1000, 10_000];
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const stores = join(repo, 'scripts/stores.sh');
const work = await mkdtemp(join(tmpdir(), 'confd-bench-etcd-'));

function run(command: string, args: string[]): { ms: number; stderr: string; status: number | null } {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return {
    ms: Number(process.hrtime.bigint() - start) / 1e6,
    stderr: result.stderr.toString(),
    status: result.status,
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** Writes `count` keys under `root` through etcd's JSON gateway, 128 puts per transaction. */
async function load(endpoint: string, root: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 128) {
    const success = [];
    for (let i = start; i < Math.min(count, start + 128); i++) {
      const key = `${root}/svc${String(i % 100).padStart(2, '0')}/key${String(i).padStart(5, '0')}`;
      success.push({ request_put: { key: b64(key), value: b64(`value-${i}-${'x'.repeat(20)}`) } });
    }
    const response = await fetch(`http://${endpoint}/v3/kv/txn`, {
      method: 'POST',
      body: JSON.stringify({ success }),
    });
    if (!response.ok) throw new Error(`loading keys: ${response.status} ${await response.text()}`);
  }
}

let endpoint = process.env.ETCD_ENDPOINT;
const started = endpoint === undefined;
if (endpoint === undefined) {
  const result = spawnSync('bash', [stores, 'start', 'etcd', work], { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`starting etcd: ${result.stderr}`);
  endpoint = result.stdout.trim();
}
try {
  for (const count of counts) {
    const root = `/bench-${count}`;
    await load(endpoint, root, count);
    const confdir = join(work, `conf-${count}`);
    await mkdir(join(confdir, 'conf.d'), { recursive: true });
    await mkdir(join(confdir, 'templates'), { recursive: true });
    await writeFile(
      join(confdir, 'templates/all.hbs'),
      '{{#each (gets "/*/*")}}{{Key}}={{Value}}\n{{/each}}',
    );
    const dest = join(confdir, 'out/all.conf');
    await writeFile(
      join(confdir, 'conf.d/all.toml'),
      `[template]\nprefix = "${root}"\nsrc = "all.hbs"\ndest = "${dest}"\nkeys = ["/"]\n`,
    );
    const args = [
      join(repo, 'bin/confd'),
      '-onetime',
      '-backend',
      'etcd',
      '-node',
      endpoint,
      '-confdir',
      confdir,
      '-log-level',
      'error',
    ];
    const confd = (): number => {
      // Every run starts from no output file, so every run reads, renders and writes.
      spawnSync('rm', ['-rf', join(confdir, 'out')]);
      const result = run(process.execPath, args);
      if (result.status !== 0) throw new Error(`confd exited ${result.status}: ${result.stderr}`);
      return result.ms;
    };
    const floor = (): number => run(process.execPath, ['-e', '0']).ms;
    const start = (): number => run(process.execPath, [join(repo, 'bin/confd'), '--version']).ms;
    for (let i = 0; i < 3; i++) {
      confd();
      floor();
      start();
    }
    const times: number[] = [];
    const floors: number[] = [];
    const starts: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleaved, so load from other processes hits all alike.
      times.push(confd());
      floors.push(floor());
      starts.push(start());
    }
    const rss: number[] = [];
    for (let i = 0; i < 5; i++) {
      spawnSync('rm', ['-rf', join(confdir, 'out')]);
      const timed = run('/usr/bin/time', ['-f', '%M', process.execPath, ...args]);
      const kib = Number(/(\d+)\s*$/.exec(timed.stderr)?.[1]);
      if (timed.status !== 0 || !Number.isFinite(kib)) throw new Error(`/usr/bin/time: ${timed.stderr}`);
      rss.push(kib / 1024);
    }
    const medianMs = median(times);
    const floorMs = median(floors);
    console.log(
      JSON.stringify({
        scenario: 'onetime-keys',
        store: 'etcd',
        keys: count,
        runs,
        median_ms: Number(medianMs.toFixed(1)),
        floor_ms: Number(floorMs.toFixed(1)),
        over_floor_ms: Number((medianMs - floorMs).toFixed(1)),
        ratio: Number((medianMs / floorMs).toFixed(2)),
        confd_version_ms: Number(median(starts).toFixed(1)),
        rss_mib: Number(median(rss).toFixed(1)),
        node: process.version,
        command: `node bin/confd ${args.slice(1).join(' ')}`,
      }),
    );
  }
} finally {
  if (started) spawnSync('bash', [stores, 'stop', 'etcd', work], { env, stdio: 'ignore' });
  await rm(work, { recursive: true, force: true });
}
