/**
 * Puts the conformance fixture into each backend with that store's own client (never through the code
 * under test), under a per-run root, and takes it out again afterwards.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Consul from 'consul';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import zookeeper from 'node-zookeeper-client';
import type { Exception as ZkException, Client as ZkClient } from 'node-zookeeper-client';
import { envName, survivesEnv, type FixtureData } from './conformance-fixture.js';

/** What a confd run needs to read the loaded fixture, and how to remove it. */
export interface LoadedFixture {
  /** `-node ...` or `-file ...`: where the backend finds the data. */
  args: string[];
  /** Variables added to the child's environment. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** `endpoint` is the store's host:port; `workDir` a throwaway directory for files the loader writes. */
export interface LoadTarget {
  root: string;
  data: FixtureData;
  endpoint: string;
  workDir: string;
}

export type FixtureLoader = (target: LoadTarget) => Promise<LoadedFixture>;

function hostPort(endpoint: string): { host: string; port: number } {
  const at = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) };
}

/** Every directory above the fixture's keys (`/a`, `/a/b` for `/a/b/c`), parents first. */
function directories(keys: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const key of keys) {
    const segments = key.split('/');
    for (let n = 2; n < segments.length; n++) dirs.add(segments.slice(0, n).join('/'));
  }
  return [...dirs].sort();
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function inBatches<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < items.length; i += limit) await Promise.all(items.slice(i, i + limit).map(task));
}

/** Loads with `load`; if that fails, removes what it wrote (and closes the client) before rethrowing. */
async function loaded(
  endpoint: string,
  load: () => Promise<unknown>,
  cleanup: () => Promise<void>,
): Promise<LoadedFixture> {
  try {
    await load();
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err;
  }
  return { args: ['-node', endpoint], env: {}, cleanup };
}

function entries(target: LoadTarget): Array<[string, string]> {
  return Object.entries(target.data).map(([key, value]) => [`${target.root}${key}`, value]);
}

/** One JSON file: the keys as nested maps under the root's segment. */
export const loadFile: FixtureLoader = async (target) => {
  const tree: Record<string, unknown> = {};
  for (const [key, value] of entries(target)) {
    const segments = key.slice(1).split('/');
    const leaf = segments.pop() as string;
    let node = tree;
    for (const segment of segments) node = (node[segment] ??= {}) as Record<string, unknown>;
    node[leaf] = value;
  }
  const file = join(target.workDir, 'data.json');
  await writeFile(file, `${JSON.stringify(tree, null, 2)}\n`);
  return { args: ['-file', file], env: {}, cleanup: async () => undefined };
};

/** Environment variables, for the keys that survive the name mapping (the others are left out). */
export const loadEnv: FixtureLoader = async (target) => {
  const env: Record<string, string> = {};
  for (const [key, value] of entries(target)) if (survivesEnv(key)) env[envName(key)] = value;
  return { args: [], env, cleanup: async () => undefined };
};

/** etcd3 put per key; cleanup deletes the root's range. */
export const loadEtcd: FixtureLoader = async (target) => {
  const client = new Etcd3({ hosts: `http://${target.endpoint}` });
  return loaded(
    target.endpoint,
    () =>
      inBatches(entries(target), 32, async ([key, value]) => {
        await client.put(key).value(value);
      }),
    async () => {
      try {
        await client.delete().prefix(`${target.root}/`);
      } finally {
        client.close();
      }
    },
  );
};

/** Consul kv.set per key (no leading '/'), plus the folder entries the Consul UI creates for directories. */
export const loadConsul: FixtureLoader = async (target) => {
  const { host, port } = hostPort(target.endpoint);
  const consul = new Consul({ host, port });
  const values = entries(target).map(([key, value]): [string, string] => [key.slice(1), value]);
  const folders = directories(Object.keys(target.data)).map((dir): [string, string] => [
    `${target.root.slice(1)}${dir}/`,
    '',
  ]);
  return loaded(
    target.endpoint,
    () => inBatches([...folders, ...values], 16, ([key, value]) => consul.kv.set(key, value)),
    async () => {
      try {
        await consul.kv.del({ key: `${target.root.slice(1)}/`, recurse: true });
      } finally {
        consul.destroy();
      }
    },
  );
};

/** ioredis MSET of plain string keys; cleanup deletes exactly those keys. */
export const loadRedis: FixtureLoader = async (target) => {
  const redis = new Redis({ ...hostPort(target.endpoint), lazyConnect: true, maxRetriesPerRequest: 2 });
  const pairs = entries(target);
  return loaded(
    target.endpoint,
    async () => {
      await redis.connect();
      await redis.mset(...pairs.flat());
    },
    async () => {
      try {
        if (redis.status === 'ready') await redis.del(...pairs.map(([key]) => key));
      } finally {
        redis.disconnect();
      }
    },
  );
};

/** Promisifies one node-zookeeper-client call. */
function zk<T>(call: (done: (err: Error | ZkException | null, result?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, result) => (err ? reject(err) : resolve(result as T))));
}

async function connectZookeeper(endpoint: string): Promise<ZkClient> {
  const client = zookeeper.createClient(endpoint, { retries: 2 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`fixture client cannot reach zookeeper at ${endpoint}`));
    }, 10_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  return client;
}

/** Deletes a znode and everything below it, children first. */
async function removeTree(client: ZkClient, path: string): Promise<void> {
  const children = await zk<string[]>((done) => client.getChildren(path, done)).catch((err: unknown) => {
    if ((err as { code?: number }).code === zookeeper.Exception.NO_NODE) return [];
    throw err;
  });
  await Promise.all(children.map((child) => removeTree(client, `${path}/${child}`)));
  await zk((done) => client.remove(path, done)).catch((err: unknown) => {
    if ((err as { code?: number }).code !== zookeeper.Exception.NO_NODE) throw err;
  });
}

/** Directory znodes with mkdirp (no data), then one leaf znode per key with create. */
export const loadZookeeper: FixtureLoader = async (target) => {
  const client = await connectZookeeper(target.endpoint);
  return loaded(
    target.endpoint,
    async () => {
      for (const dir of directories(Object.keys(target.data)))
        await zk((done) => client.mkdirp(`${target.root}${dir}`, done));
      await inBatches(entries(target), 64, ([key, value]) =>
        zk((done) => client.create(key, Buffer.from(value, 'utf8'), done)),
      );
    },
    async () => {
      try {
        await removeTree(client, target.root);
      } finally {
        client.close();
      }
    },
  );
};
