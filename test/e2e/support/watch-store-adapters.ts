import { setTimeout as sleep } from 'node:timers/promises';
import Consul from 'consul';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { restartStore, useStore, type StoreName } from '../../integration/support/stores.js';
import { ZkFixture } from '../../integration/support/zookeeper-fixture.js';
import { hostPort } from '../../support/net.js';
import { eventually } from './confd-process.js';

/**
 * What the shared watch scenarios need from one store: its own admin client to change keys behind confd's
 * back, and a restart with that store's semantics. Keys are absolute paths (`/prefix/app/name`).
 */
export interface WatchStoreAdapter {
  readonly name: StoreName;
  /** Flags confd needs for this store beyond `-watch -backend -node -confdir`. */
  readonly extraArgs: string[];
  connect(): Promise<void>;
  /** Run before each scenario (after connect). */
  prepare(): Promise<void>;
  set(key: string, value: string): Promise<void>;
  /** The same key set to each value in turn, as fast as the store's client can issue them. */
  setRapidly(key: string, values: string[]): Promise<void>;
  delete(key: string): Promise<void>;
  /** Removes every key under `prefix`. */
  clear(prefix: string): Promise<void>;
  /**
   * Restarts the store the way this store's test server behaves, with `key` changing meanwhile where the
   * store's client can keep writing, and returns once `value` could be written to `key` afterwards.
   */
  restartThenSet(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** Writes `key` as fast as possible (failures while the store is down are expected) until stopped. */
function keepWriting(write: (value: string) => Promise<unknown>): { stop(): Promise<void> } {
  let writing = true;
  const loop = (async () => {
    for (let i = 0; writing; i += 1) await write(`w${i}`).catch(() => sleep(50));
  })();
  return {
    stop: async () => {
      writing = false;
      await loop;
    },
  };
}

export function etcdAdapter(): WatchStoreAdapter {
  let endpoint = '';
  let admin: Etcd3;
  return {
    name: 'etcd',
    extraArgs: [],
    async connect() {
      ({ endpoint } = await useStore('etcd'));
      admin = new Etcd3({ hosts: `http://${endpoint}` });
    },
    prepare: async () => undefined,
    set: async (key, value) => void (await admin.put(key).value(value)),
    async setRapidly(key, values) {
      for (const value of values) await admin.put(key).value(value);
    },
    delete: async (key) => void (await admin.delete().key(key)),
    clear: async (prefix) => void (await admin.delete().prefix(prefix)),
    async restartThenSet(key, value) {
      await restartStore('etcd', 2);
      // A fresh client: the write must not depend on the old client's reconnection.
      const writer = new Etcd3({ hosts: `http://${endpoint}` });
      try {
        await writer.put(key).value(value);
      } finally {
        writer.close();
      }
    },
    close: async () => admin?.close(),
  };
}

export function redisAdapter(): WatchStoreAdapter {
  let endpoint = '';
  let admin: Redis | undefined;
  let originalEvents = '';
  const connectAdmin = async (): Promise<Redis> => {
    const { host, port } = hostPort(endpoint);
    const conn = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1 });
    conn.on('error', () => undefined);
    await conn.connect();
    return conn;
  };
  const client = (): Redis => {
    if (!admin) throw new Error('redis admin client not connected');
    return admin;
  };
  const clear = async (prefix: string): Promise<void> => {
    const names = await client().keys(`${prefix}*`);
    if (names.length > 0) await client().del(...names);
  };
  return {
    name: 'redis',
    // With keyspace notifications off (a restarted test server), the backend polls every -watch-poll
    // (default 1 s): a watch mechanism of its own, not a resync.
    extraArgs: [],
    async connect() {
      ({ endpoint } = await useStore('redis'));
      admin = await connectAdmin();
      originalEvents = ((await admin.config('GET', 'notify-keyspace-events')) as string[])[1] ?? '';
    },
    prepare: async () => void (await client().config('SET', 'notify-keyspace-events', 'KA')),
    set: async (key, value) => void (await client().set(key, value)),
    async setRapidly(key, values) {
      for (const value of values) await client().set(key, value);
    },
    delete: async (key) => void (await client().del(key)),
    clear,
    async restartThenSet(key, value) {
      await restartStore('redis', 2);
      client().disconnect();
      admin = await connectAdmin();
      // The restarted server has no data (no persistence in tests) and its notifications are off again:
      // confd-ts polls until they are back on, then subscribes again on its next re-arm.
      await admin.set(key, value);
    },
    async close() {
      if (!admin) return;
      await admin.config('SET', 'notify-keyspace-events', originalEvents);
      admin.disconnect();
    },
  };
}

export function zookeeperAdapter(): WatchStoreAdapter {
  let fixture: ZkFixture;
  let endpoint: string;
  return {
    name: 'zookeeper',
    extraArgs: [],
    async connect() {
      ({ endpoint } = await useStore('zookeeper'));
      fixture = await ZkFixture.connect(endpoint);
    },
    prepare: async () => undefined,
    set: (key, value) => fixture.put(key, value),
    // Back to back on one session: ZooKeeper applies them in order, so the last value wins.
    setRapidly: async (key, values) => void (await Promise.all(values.map((v) => fixture.setData(key, v)))),
    delete: (key) => fixture.remove(key),
    clear: (prefix) => fixture.remove(prefix),
    async restartThenSet(key, value) {
      // The server keeps its data across the restart; its session may or may not survive.
      const writer = keepWriting((v) => fixture.setData(key, v));
      try {
        await sleep(200);
        await restartStore('zookeeper', 1);
        await sleep(200);
      } finally {
        await writer.stop();
      }
      await eventually(
        () =>
          fixture.setData(key, value).then(
            () => true,
            async () => {
              // On a loaded machine the restart can outlast the fixture's own session: start a new one.
              if (fixture.expired()) {
                fixture.close();
                fixture = await ZkFixture.connect(endpoint);
              }
              return false;
            },
          ),
        'the fixture client to write again',
        60_000,
      );
    },
    close: async () => fixture?.close(),
  };
}

export function consulAdapter(): WatchStoreAdapter {
  let kv: Consul;
  // Consul's KV keys have no leading slash; confd's prefix "/x" maps to key "x".
  const k = (key: string): string => key.replace(/^\/+/, '');
  return {
    name: 'consul',
    extraArgs: [],
    async connect() {
      const { endpoint } = await useStore('consul');
      kv = new Consul(hostPort(endpoint));
    },
    prepare: async () => undefined,
    set: async (key, value) => void (await kv.kv.set(k(key), value)),
    async setRapidly(key, values) {
      for (const value of values) await kv.kv.set(k(key), value);
    },
    delete: async (key) => void (await kv.kv.del(k(key))),
    clear: async (prefix) =>
      void (await kv.kv.del({ key: `${k(prefix)}/`, recurse: true }).catch(() => undefined)),
    async restartThenSet(key, value) {
      // A dev-mode agent loses its data on restart.
      const writer = keepWriting((v) => kv.kv.set(k(key), v));
      try {
        await sleep(200);
        await restartStore('consul', 1);
        await sleep(200);
      } finally {
        await writer.stop();
      }
      await eventually(
        () =>
          kv.kv.set(k(key), value).then(
            (ok) => ok === true,
            () => false,
          ),
        'the agent to take writes again',
        60_000,
      );
    },
    close: async () => kv?.destroy(),
  };
}
