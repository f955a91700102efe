/**
 * Wall time and peak RSS of `confd -onetime` reading N keys from ZooKeeper, as a user runs it: a fresh node
 * process each time, one resource whose template lists every key. Starts a throwaway ZooKeeper through
 * scripts/stores.sh (stopped at the end), loads the keys with node-zookeeper-client, and prints one JSON line
 * per key count with the median of a bare `node -e 0` start measured in the same run as the floor.
 * NODE_EXTRA_CA_CERTS is removed from the child environment (it adds ~130 ms to every node start).
 *
 *   npx tsx bench/zk-onetime.ts [runs] [keys...]      (default 15 runs, after 2 warm-up runs; 1000 10000)
 *
 * CONFD_BIN=<path to another checkout's bin/confd> measures that build instead (a before/after comparison).
 *
 * Keys are laid out as /benchN/gNNN/kNN, 100 values per group, so a read walks three levels below the root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import zookeeper from 'node-zookeeper-client';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const stores = join(repo, 'scripts/stores.sh');
const runs = Number(process.argv[2] ?? 15);
const counts = process.argv.slice(3).map(Number);
if (counts.length === 0) counts.push(1000, 10_000);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const GROUP = 100;
const confd = process.env.CONFD_BIN ?? join(repo, 'bin/confd');

const dir = await mkdtemp(join(tmpdir(), 'confd-zk-bench-'));
const endpoint = execFileSync('bash', [stores, 'start', 'zookeeper', dir], { encoding: 'utf8' }).trim();

/** Runs `argv` once; wall ms and peak RSS (KiB, from GNU time). */
function once(argv: string[]): { ms: number; rssKib: number } {
  const start = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], { cwd: dir, env, stdio: 'pipe' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const stderr = result.stderr.toString();
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}: ${stderr}`);
  return { ms, rssKib: Number(stderr.trim().split('\n').at(-1)) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function measure(argv: string[], before?: () => void): { ms: number; rssMib: number } {
  const samples: { ms: number; rssKib: number }[] = [];
  for (let i = 0; i < runs + 2; i++) {
    before?.();
    const sample = once(argv);
    if (i >= 2) samples.push(sample);
  }
  return { ms: median(samples.map((s) => s.ms)), rssMib: median(samples.map((s) => s.rssKib)) / 1024 };
}

async function withClient<T>(work: (client: zookeeper.Client) => Promise<T>): Promise<T> {
  const client = zookeeper.createClient(endpoint, { retries: 0 });
  await new Promise<void>((ok) => {
    client.once('connected', () => ok());
    client.connect();
  });
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

function call(run: (done: (err: unknown) => void) => void, tolerate?: number): Promise<void> {
  return new Promise((ok, fail) => {
    run((err) => {
      const code = (err as { code?: number } | null)?.code;
      if (!err || code === tolerate) ok();
      else fail(err instanceof Error ? err : new Error(String(err)));
    });
  });
}

/** The subtree holding `keys` values: each count has its own. */
const root = (keys: number) => `/bench${keys}`;

/** root(keys) with exactly `keys` values (all requests of a level at once: the client pipelines them). */
async function load(keys: number): Promise<void> {
  await withClient(async (client) => {
    await call((done) => client.create(root(keys), done));
    const groups = Math.ceil(keys / GROUP);
    const name = (g: number) => `${root(keys)}/g${String(g).padStart(3, '0')}`;
    await Promise.all(Array.from({ length: groups }, (_, g) => call((done) => client.create(name(g), done))));
    // In batches: the server drops a connection that floods it with tens of thousands of writes at once.
    for (let from = 0; from < keys; from += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, keys - from) }, (_, n) => {
          const i = from + n;
          const path = `${name(Math.floor(i / GROUP))}/k${String(i % GROUP).padStart(2, '0')}`;
          return call((done) => client.create(path, Buffer.from(`value-${i}`), done));
        }),
      );
    }
  });
}

const confdir = join(dir, 'confdir');
await mkdir(join(confdir, 'conf.d'), { recursive: true });
await mkdir(join(confdir, 'templates'), { recursive: true });
try {
  const floor = measure([process.execPath, '-e', '0']);
  for (const keys of counts) {
    await load(keys);
    await writeFile(
      join(confdir, 'conf.d', 'bench.toml'),
      `[template]\nsrc = "bench.tmpl"\ndest = "out/bench.txt"\nkeys = ["${root(keys)}"]\n`,
    );
    await writeFile(
      join(confdir, 'templates', 'bench.tmpl'),
      `{{range gets "${root(keys)}/*/*"}}{{.Key}}={{.Value}}\n{{end}}`,
    );
    const argv = [
      process.execPath,
      confd,
      '-onetime',
      '-backend',
      'zookeeper',
      '-node',
      endpoint,
      '-confdir',
      confdir,
      '-config-file',
      '',
    ];
    // Each run starts from no output file, so every run reads, renders and writes.
    const result = measure(argv, () => spawnSync('rm', ['-rf', join(dir, 'out')]));
    console.log(
      JSON.stringify({
        scenario: 'onetime-keys',
        store: 'zookeeper',
        keys,
        median_ms: Math.round(result.ms * 10) / 10,
        floor_ms: Math.round(floor.ms * 10) / 10,
        ratio: Math.round((result.ms / floor.ms) * 100) / 100,
        rss_mib: Math.round(result.rssMib * 10) / 10,
        command: `node ${confd} ${argv.slice(2).join(' ')}`,
      }),
    );
  }
} finally {
  execFileSync('bash', [stores, 'stop', 'zookeeper', dir], { stdio: 'ignore' });
  await rm(dir, { recursive: true, force: true });
}
