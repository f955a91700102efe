/**
 * The stores as the driver sees them, through each store's own client (never through confd): bulk loads,
 * writes, the store's native notification latency (the floor of the watch scenarios), and the store's own
 * counters of reads and watches (what a fleet of confd instances costs the store).
 */
import { createServer, request, Agent, type Server } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import zookeeper from 'node-zookeeper-client';
import type { Client as ZkClient } from 'node-zookeeper-client';
import { useStore, stopAllStores, type StoreName } from '../../test/integration/support/stores.js';
import { benchDir } from './confd.js';
import { msSince } from './stats.js';

export type { StoreName };
export const storeNames: StoreName[] = ['etcd', 'zookeeper', 'consul', 'redis'];

export interface StoreLoad {
  /** Read requests the store served so far (what counts as one: `readsCounted`). */
  reads: number;
  /** Watches (or subscriptions, or blocking queries) the store holds right now. */
  watches: number;
  /** Consul only: blocking queries started (each a re-armed watch that also returns the data). */
  rearms?: number;
  /** Redis only: every read command (`redisReads`). */
  commands?: number;
}

export interface BenchStore {
  readonly name: StoreName;
  readonly endpoint: string;
  /** What `reads` counts, for the report. */
  readonly readsCounted: string;
  readonly watchesCounted: string;
  /** `-backend X -node Y` for confd; `counted` routes through the driver's counting proxy where one is needed. */
  confdArgs(counted?: boolean): string[];
  /**
   * node's arguments for the store's transport floor (bench/floors/): a bare script that reads every key
   * under `prefix` with the Node.js module confd-ts's client runs on and prints how many came. Only the
   * stores with an onetime target at 1,000 keys (etcd, Consul) have one.
   */
  transportFloorArgs?(prefix: string): string[];
  /** Writes the entries (absolute keys under `prefix`), as fast as the client allows. */
  load(prefix: string, entries: ReadonlyArray<readonly [string, string]>): Promise<void>;
  set(key: string, value: string): Promise<void>;
  /** Every value in turn, with no pause between them (each write issued when the last was acknowledged). */
  setRapidly(key: string, values: readonly string[]): Promise<void>;
  clear(prefix: string): Promise<void>;
  /** `n` samples of: write `key`, until the store's own watch on it reports the write (ms). */
  nativeLatency(key: string, n: number): Promise<number[]>;
  usage(): Promise<StoreLoad>;
  close(): Promise<void>;
}

const once = <T>(register: (done: (value: T) => void) => void): Promise<T> =>
  new Promise<T>((resolve) => register(resolve));

async function inBatches<T>(
  items: readonly T[],
  size: number,
  parallel: number,
  run: (batch: T[]) => Promise<unknown>,
): Promise<void> {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        if (batch) await run(batch);
      }
    }),
  );
}

// ------------------------------------------------------------------------------------------------ etcd

async function etcdStore(endpoint: string): Promise<BenchStore> {
  const client = new Etcd3({ hosts: `http://${endpoint}` });
  const metric = async (pattern: RegExp): Promise<number> => {
    const text = await (await fetch(`http://${endpoint}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n'))
      if (pattern.test(line)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    return sum;
  };
  return {
    name: 'etcd',
    endpoint,
    // confd-ts reads a prefix in one Txn of range operations; the driver itself only puts and deletes.
    readsCounted: 'Range and Txn RPCs (grpc_server_handled_total from /metrics)',
    watchesCounted: 'watchers (etcd_debugging_mvcc_watcher_total)',
    confdArgs: () => ['-backend', 'etcd', '-node', `http://${endpoint}`],
    transportFloorArgs: (prefix) => [join(benchDir, 'floors/etcd-read.cjs'), `http://${endpoint}`, prefix],
    async load(_prefix, entries) {
      // One transaction per 128 puts (etcd's default --max-txn-ops), a few in flight.
      await inBatches(entries, 128, 8, (batch) =>
        client.kv.txn({
          success: batch.map(([key, value]) => ({
            request_put: { key: Buffer.from(key), value: Buffer.from(value) },
          })),
        }),
      );
    },
    set: async (key, value) => void (await client.put(key).value(value)),
    async setRapidly(key, values) {
      for (const value of values) await client.put(key).value(value);
    },
    clear: async (prefix) => void (await client.delete().prefix(prefix)),
    async nativeLatency(key, n) {
      const watcher = await client.watch().key(key).create();
      let seen: ((value: string) => void) | undefined;
      watcher.on('put', (kv) => seen?.(kv.value.toString()));
      const samples: number[] = [];
      try {
        for (let i = 0; i < n; i++) {
          const value = `floor-${i}`;
          const arrived = once<void>((done) => (seen = (v) => v === value && done()));
          const start = process.hrtime.bigint();
          await client.put(key).value(value);
          await arrived;
          samples.push(msSince(start));
        }
      } finally {
        await watcher.cancel();
      }
      return samples;
    },
    async usage() {
      return {
        reads: await metric(/^grpc_server_handled_total\{.*grpc_method="(Range|Txn)"/),
        watches: await metric(/^etcd_debugging_mvcc_watcher_total /),
      };
    },
    close: async () => client.close(),
  };
}

// ------------------------------------------------------------------------------------------------ ZooKeeper

/** A four-letter-word command's answer (4lw.commands.whitelist=* in scripts/stores.sh). */
function fourLetterWord(endpoint: string, word: string): Promise<string> {
  const at = endpoint.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(endpoint.slice(at + 1)), endpoint.slice(0, at));
    let out = '';
    socket.on('connect', () => socket.write(word));
    socket.on('data', (d: Buffer) => (out += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
  });
}

async function zookeeperStore(endpoint: string): Promise<BenchStore> {
  const client: ZkClient = zookeeper.createClient(endpoint, { retries: 2 });
  await once<void>((done) => {
    client.once('connected', () => done());
    client.connect();
  });
  // The driver's own requests are subtracted from the server's packet counter.
  let own = 0;
  const call = <T>(run: (cb: (err: unknown, value: T) => void) => void): Promise<T> => {
    own += 1;
    return new Promise<T>((resolve, reject) =>
      run((err, value) => (err ? reject(err as Error) : resolve(value))),
    );
  };
  const isCode = (err: unknown, code: number): boolean => (err as { code?: number } | null)?.code === code;
  const mkdirp = (path: string) => call<string>((cb) => client.mkdirp(path, cb));
  const setData = (path: string, value: string) => call((cb) => client.setData(path, Buffer.from(value), cb));
  const put = async (path: string, value: string): Promise<void> => {
    try {
      await setData(path, value);
    } catch (err) {
      if (!isCode(err, zookeeper.Exception.NO_NODE)) throw err;
      await mkdirp(path.slice(0, path.lastIndexOf('/')));
      await call((cb) => client.create(path, Buffer.from(value), cb));
    }
  };
  const remove = async (path: string): Promise<void> => {
    let children: string[];
    try {
      children = await call<string[]>((cb) => client.getChildren(path, cb));
    } catch (err) {
      if (isCode(err, zookeeper.Exception.NO_NODE)) return;
      throw err;
    }
    await inBatches(children, 1, 64, ([child]) => remove(`${path}/${child ?? ''}`));
    await call((cb) => client.remove(path, (err) => cb(err, undefined))).catch((err: unknown) => {
      if (!isCode(err, zookeeper.Exception.NO_NODE)) throw err;
    });
  };
  const mntr = async (): Promise<Map<string, number>> => {
    const out = await fourLetterWord(endpoint, 'mntr');
    return new Map(
      out
        .split('\n')
        .map((l) => l.split('\t'))
        .map(([k, v]) => [k ?? '', Number(v)]),
    );
  };
  return {
    name: 'zookeeper',
    endpoint,
    readsCounted:
      'packets received by the server (mntr zk_packets_received, less the driver’s own requests; includes pings)',
    // Not mntr's zk_watch_count: it counts a persistent recursive watch twice (the server files it with the
    // data watches and with the child watches).
    watchesCounted: 'watches (wchs "Total watches")',
    confdArgs: () => ['-backend', 'zookeeper', '-node', endpoint],
    async load(_prefix, entries) {
      const parents = new Set(entries.map(([key]) => key.slice(0, key.lastIndexOf('/'))));
      for (const parent of parents) await mkdirp(parent);
      await inBatches(entries, 500, 4, async (batch) => {
        const tx = client.transaction();
        for (const [key, value] of batch) tx.create(key, Buffer.from(value));
        await call((cb) => tx.commit(cb));
      });
    },
    set: put,
    // Back to back on one session without waiting: ZooKeeper applies them in order.
    setRapidly: async (key, values) => void (await Promise.all(values.map((v) => setData(key, v)))),
    clear: remove,
    async nativeLatency(key, n) {
      await put(key, 'floor');
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        let fired: () => void = () => undefined;
        const changed = once<void>((done) => (fired = done));
        await call((cb) => client.getData(key, () => fired(), cb));
        const start = process.hrtime.bigint();
        await setData(key, `floor-${i}`);
        await changed;
        samples.push(msSince(start));
      }
      return samples;
    },
    async usage() {
      const wchs = /Total watches:(\d+)/.exec(await fourLetterWord(endpoint, 'wchs'));
      const m = await mntr();
      // Both commands count as packets received, like the driver's own requests.
      own += 2;
      return { reads: (m.get('zk_packets_received') ?? NaN) - own, watches: Number(wchs?.[1] ?? NaN) };
    },
    close: async () => client.close(),
  };
}

// ------------------------------------------------------------------------------------------------ Consul

/**
 * Consul counts no KV reads of its own that the driver could read per change, so confd is pointed at this
 * HTTP proxy when the store load is measured: it counts KV GETs, and holds the count of blocking queries
 * (`?index=`) in flight, which is what a watch is on Consul.
 */
interface CountingProxy {
  endpoint: string;
  reads: number;
  blocking: number;
  rearms: number;
  close(): Promise<void>;
}

async function countingProxy(target: string): Promise<CountingProxy> {
  const at = target.lastIndexOf(':');
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const state = { reads: 0, blocking: 0, rearms: 0 };
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const isBlocking = /[?&]index=[1-9]/.test(url);
    if (req.method === 'GET' && url.startsWith('/v1/kv') && !isBlocking) state.reads += 1;
    if (isBlocking) {
      state.blocking += 1;
      state.rearms += 1;
    }
    let counted = isBlocking;
    const settle = (): void => {
      if (counted) state.blocking -= 1;
      counted = false;
    };
    const upstream = request(
      {
        host: target.slice(0, at),
        port: Number(target.slice(at + 1)),
        method: req.method,
        path: url,
        headers: req.headers,
        agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on('end', settle);
      },
    );
    upstream.on('error', () => {
      settle();
      res.destroy();
    });
    res.on('close', settle);
    req.pipe(upstream);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    endpoint: `127.0.0.1:${address.port}`,
    get reads() {
      return state.reads;
    },
    get blocking() {
      return state.blocking;
    },
    get rearms() {
      return state.rearms;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      agent.destroy();
    },
  };
}

async function consulStore(endpoint: string): Promise<BenchStore> {
  const base = `http://${endpoint}`;
  const proxy = await countingProxy(endpoint);
  const k = (key: string): string => key.replace(/^\/+/, '');
  const ok = async (res: Response): Promise<Response> => {
    if (!res.ok) throw new Error(`consul answered ${res.status}: ${await res.text()}`);
    return res;
  };
  const set = async (key: string, value: string): Promise<void> =>
    void (await (await ok(await fetch(`${base}/v1/kv/${k(key)}`, { method: 'PUT', body: value }))).text());
  return {
    name: 'consul',
    endpoint,
    readsCounted:
      'KV GET requests without ?index (a counting HTTP proxy in the driver between confd and the agent)',
    watchesCounted: 'blocking queries in flight (the same proxy)',
    confdArgs: (counted = false) => ['-backend', 'consul', '-node', counted ? proxy.endpoint : endpoint],
    transportFloorArgs: (prefix) => [join(benchDir, 'floors/consul-read.cjs'), endpoint, prefix],
    async load(_prefix, entries) {
      // A transaction takes at most 64 operations.
      await inBatches(entries, 64, 8, async (batch) => {
        const ops = batch.map(([key, value]) => ({
          KV: { Verb: 'set', Key: k(key), Value: Buffer.from(value).toString('base64') },
        }));
        await (await ok(await fetch(`${base}/v1/txn`, { method: 'PUT', body: JSON.stringify(ops) }))).text();
      });
    },
    set,
    async setRapidly(key, values) {
      for (const value of values) await set(key, value);
    },
    clear: async (prefix) =>
      void (await fetch(`${base}/v1/kv/${k(prefix)}?recurse=true`, { method: 'DELETE' })),
    async nativeLatency(key, n) {
      await set(key, 'floor');
      const first = await ok(await fetch(`${base}/v1/kv/${k(key)}`));
      await first.text();
      let index = Number(first.headers.get('x-consul-index'));
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const blocked = fetch(`${base}/v1/kv/${k(key)}?index=${index}&wait=30s`);
        const start = process.hrtime.bigint();
        await set(key, `floor-${i}`);
        const res = await ok(await blocked);
        await res.text();
        samples.push(msSince(start));
        index = Number(res.headers.get('x-consul-index'));
      }
      return samples;
    },
    usage: async () => ({ reads: proxy.reads, watches: proxy.blocking, rearms: proxy.rearms }),
    close: () => proxy.close(),
  };
}

// ------------------------------------------------------------------------------------------------ Redis

/**
 * The commands a Redis backend reads with. confd-ts's (src/backends/redis-read.ts): a prefix read is a GET
 * of the key and one SCAN per page of 1,000 names, one MGET per page, and HGETALL for the names MGET
 * answers nil for; `reads` counts the SCANs. TYPE, KEYS and EXISTS are counted for other clients.
 */
const redisReads = ['get', 'mget', 'scan', 'type', 'hgetall', 'keys', 'exists'];

async function redisStore(endpoint: string): Promise<BenchStore> {
  const at = endpoint.lastIndexOf(':');
  const options = { host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) };
  const client = new Redis(options);
  // confd-ts watches through keyspace notifications; without them it falls back to polling.
  await client.config('SET', 'notify-keyspace-events', 'KA');
  return {
    name: 'redis',
    endpoint,
    readsCounted: `prefix reads (SCAN calls, INFO commandstats; all read commands: ${redisReads.join(', ')})`,
    watchesCounted: 'pattern subscriptions held by clients (sum of psub in CLIENT LIST)',
    confdArgs: () => ['-backend', 'redis', '-node', endpoint],
    async load(_prefix, entries) {
      await inBatches(entries, 1000, 4, (batch) => client.mset(...batch.flat()));
    },
    set: async (key, value) => void (await client.set(key, value)),
    async setRapidly(key, values) {
      for (const value of values) await client.set(key, value);
    },
    async clear(prefix) {
      let cursor = '0';
      do {
        const [next, names] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (names.length > 0) await client.del(...names);
      } while (cursor !== '0');
    },
    async nativeLatency(key, n) {
      const sub = new Redis(options);
      let seen: (() => void) | undefined;
      sub.on('message', () => seen?.());
      await sub.subscribe(`__keyspace@0__:${key}`);
      const samples: number[] = [];
      try {
        for (let i = 0; i < n; i++) {
          const arrived = once<void>((done) => (seen = done));
          const start = process.hrtime.bigint();
          await client.set(key, `floor-${i}`);
          await arrived;
          samples.push(msSince(start));
        }
      } finally {
        sub.disconnect();
      }
      return samples;
    },
    async usage() {
      const info = await client.info('commandstats');
      let commands = 0;
      let reads = 0;
      for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) {
        if (redisReads.includes(m[1] ?? '')) commands += Number(m[2]);
        if (m[1] === 'scan') reads += Number(m[2]);
      }
      // PUBSUB NUMPAT counts distinct patterns: a fleet on one prefix shares one. Each client's psub is its own.
      const clients = (await client.client('LIST')) as string;
      let watches = 0;
      for (const m of clients.matchAll(/ psub=(\d+)/g)) watches += Number(m[1]);
      return { reads, watches, commands };
    },
    close: async () => void client.disconnect(),
  };
}

// ------------------------------------------------------------------------------------------------ lifecycle

const makers: Record<StoreName, (endpoint: string) => Promise<BenchStore>> = {
  etcd: etcdStore,
  zookeeper: zookeeperStore,
  consul: consulStore,
  redis: redisStore,
};

const open = new Map<StoreName, Promise<BenchStore>>();

/** Starts the store through scripts/stores.sh (throwaway data dir) on first use, and connects the driver. */
export function benchStore(name: StoreName): Promise<BenchStore> {
  let store = open.get(name);
  if (!store) {
    store = useStore(name).then(({ endpoint }) => makers[name](endpoint));
    open.set(name, store);
  }
  return store;
}

/** Disconnects the driver's clients and stops every store this run started (also after a failure). */
export async function closeStores(): Promise<void> {
  const stores = await Promise.allSettled(open.values());
  open.clear();
  for (const s of stores) if (s.status === 'fulfilled') await s.value.close().catch(() => undefined);
  await stopAllStores();
}
