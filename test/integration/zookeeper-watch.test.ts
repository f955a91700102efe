import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import zookeeper from 'node-zookeeper-client';
import type { Client as ZkLibClient } from 'node-zookeeper-client';
import { createClient } from '../../src/backends/zookeeper.js';
import type { BackendOptions, StoreClient, WatchResult } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import type { Logger } from '../../src/logging/logger.js';
import { restartStore, useStore } from './support/stores.js';

function backendOptions(nodes: string[], extra: Partial<BackendOptions> = {}): BackendOptions {
  return {
    backend: 'zookeeper',
    nodes,
    scheme: 'http',
    clientInsecure: false,
    basicAuth: false,
    separator: '/',
    files: [],
    filter: '*',
    connectTimeoutMs: 5000,
    ...extra,
  };
}

/** Keeps what the code under test logs, to check it says why it rebuilt. */
class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  debug = (message: string): void => void this.lines.push(message);
  info = (message: string): void => void this.lines.push(message);
  warn = (message: string): void => void this.lines.push(message);
  error = (message: string): void => void this.lines.push(message);
}

function hostPort(endpoint: string): { host: string; port: number } {
  const at = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) };
}

/** The store's own client, promisified, to change nodes independently of the code under test. */
class Fixture {
  private constructor(private readonly client: ZkLibClient) {}

  static async connect(endpoint: string): Promise<Fixture> {
    const client = zookeeper.createClient(endpoint, { retries: 2 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fixture client cannot reach ${endpoint}`)), 10_000);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.connect();
    });
    return new Fixture(client);
  }

  /** Creates the node (and missing parents) or sets its data. */
  async put(path: string, value: string): Promise<void> {
    const parent = path.slice(0, path.lastIndexOf('/'));
    if (parent !== '') {
      await new Promise<void>((resolve, reject) =>
        this.client.mkdirp(parent, (err) => (err ? reject(err) : resolve())),
      );
    }
    await new Promise<void>((resolve, reject) =>
      this.client.create(path, Buffer.from(value), (err) => {
        if (!err) return resolve();
        if ((err as { code?: number }).code !== zookeeper.Exception.NODE_EXISTS) return reject(err);
        this.client.setData(path, Buffer.from(value), (setErr) => (setErr ? reject(setErr) : resolve()));
      }),
    );
  }

  setData(path: string, value: string): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.client.setData(path, Buffer.from(value), (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Removes the subtree at `path`, if any. */
  async remove(path: string): Promise<void> {
    const children = await new Promise<string[]>((resolve, reject) =>
      this.client.getChildren(path, (err, list) => {
        if (!err) return resolve(list);
        if ((err as { code?: number }).code === zookeeper.Exception.NO_NODE) return resolve([]);
        reject(err);
      }),
    );
    await Promise.all(children.map((child) => this.remove(`${path}/${child}`)));
    await new Promise<void>((resolve, reject) =>
      this.client.remove(path, (err) =>
        !err || (err as { code?: number }).code === zookeeper.Exception.NO_NODE ? resolve() : reject(err),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}

/** Sends a four-letter-word command and returns the server's answer. */
function fourLetterWord(endpoint: string, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(hostPort(endpoint));
    let answer = '';
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer to ${word}`)));
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

/** Watches the server holds for all sessions ("Total watches:N" of `wchs`). */
async function totalWatches(endpoint: string): Promise<number> {
  const answer = await fourLetterWord(endpoint, 'wchs');
  const match = /Total watches:(\d+)/.exec(answer);
  if (!match?.[1]) throw new Error(`unexpected wchs answer: ${answer}`);
  return Number(match[1]);
}

/** Sessions the server holds (connected or not): `zk_global_sessions` of `mntr`. */
async function liveSessions(endpoint: string): Promise<number> {
  const answer = await fourLetterWord(endpoint, 'mntr');
  const match = /zk_global_sessions\s+(\d+)/.exec(answer);
  if (!match?.[1]) throw new Error(`unexpected mntr answer: ${answer}`);
  return Number(match[1]);
}

/**
 * A TCP relay between the client under test and the server, to cut the client off (a network partition)
 * while the server and the fixture client keep running.
 */
class Relay {
  private readonly sockets = new Set<Socket>();
  private cut = false;

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(target: string): Promise<Relay> {
    let relay: Relay | undefined;
    const server = createServer((socket) => relay?.accept(socket, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('relay has no port');
    relay = new Relay(server, `127.0.0.1:${address.port}`);
    return relay;
  }

  private accept(socket: Socket, target: string): void {
    if (this.cut) {
      socket.destroy();
      return;
    }
    const upstream = connect(hostPort(target));
    for (const [a, b] of [
      [socket, upstream],
      [upstream, socket],
    ] as const) {
      this.sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
    }
  }

  /** Drops every connection and refuses new ones. */
  partition(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  heal(): void {
    this.cut = false;
  }

  async close(): Promise<void> {
    this.partition();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls `probe` until it holds (a liveness bound for background work, not a speed test). */
async function eventually(probe: () => Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Follows `prefix` the way the watch processor does from an armed `index`: keep passing back the index it
 * got, reading `key` after every answer, until the key holds `wanted`. A BackendError (store away) is
 * retried with the same index, so recovery must come from the backend itself. Returns every answer seen.
 */
async function follow(
  client: StoreClient,
  prefix: string,
  key: string,
  wanted: string,
  armedIndex: number,
): Promise<WatchResult[]> {
  const seen: WatchResult[] = [];
  const signal = new AbortController().signal;
  let index = armedIndex;
  while ((await client.getValues([key]))[key] !== wanted) {
    try {
      const result = await client.watchPrefix(prefix, [key], { waitIndex: index, signal });
      seen.push(result);
      index = result.index;
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
      await sleep(100);
    }
  }
  return seen;
}

/**
 * Keeps following `prefix` from `index` until its values equal `wanted`, and returns every key reported
 * changed on the way; fails if a report says "anything may have changed".
 */
async function collectUntil(
  client: StoreClient,
  prefix: string,
  index: number,
  wanted: Record<string, string>,
): Promise<Set<string>> {
  const changed = new Set<string>();
  const signal = new AbortController().signal;
  let at = index;
  while (JSON.stringify(await client.getValues([prefix])) !== JSON.stringify(wanted)) {
    const result = await client.watchPrefix(prefix, [prefix], { waitIndex: at, signal });
    if (!result.changedKeys) throw new Error('unexpected "anything may have changed"');
    for (const key of result.changedKeys) changed.add(key);
    at = result.index;
  }
  return changed;
}

describe('zookeeper watch: tree cache per prefix (real server)', function () {
  this.timeout(60_000);

  let endpoint: string;
  let fixture: Fixture;
  let client: StoreClient;
  const logger = new RecordingLogger();
  const root = `/confd-watch-${randomBytes(4).toString('hex')}`;
  const never = new AbortController().signal;

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('zookeeper'));
    fixture = await Fixture.connect(endpoint);
    await fixture.put(`${root}/app/db/host`, 'db.local');
    await fixture.put(`${root}/app/db/port`, '5432');
    await fixture.put(`${root}/app/dbx/host`, 'other.local');
    client = await createClient(backendOptions([endpoint]), logger);
  });

  after(async () => {
    await client?.close();
    if (fixture) {
      await fixture.remove(root);
      fixture.close();
    }
  });

  it('answers waitIndex 0 at once, then reports an update with exactly the changed key', async () => {
    const prefix = `${root}/app/db`;
    const armed = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    expect(armed.index).to.be.greaterThan(0);
    const waiting = client.watchPrefix(prefix, [prefix], { waitIndex: armed.index, signal: never });
    await fixture.setData(`${root}/app/db/host`, 'db2.local');
    const result = await waiting;
    expect(result.index).to.be.greaterThan(armed.index);
    expect(result.changedKeys).to.deep.equal([`${root}/app/db/host`]);
    expect(await client.getValues([prefix])).to.deep.equal({
      [`${root}/app/db/host`]: 'db2.local',
      [`${root}/app/db/port`]: '5432',
    });
  });

  it('keeps changes made while nobody waits and hands them to the next call', async () => {
    const prefix = `${root}/app/db`;
    const { index } = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    await fixture.setData(`${root}/app/db/port`, '6543');
    await fixture.put(`${root}/app/db/user`, 'admin');
    const changed = new Set<string>();
    let at = index;
    while (changed.size < 2) {
      const result = await client.watchPrefix(prefix, [prefix], { waitIndex: at, signal: never });
      for (const key of result.changedKeys ?? []) changed.add(key);
      at = result.index;
    }
    expect([...changed].sort()).to.deep.equal([`${root}/app/db/port`, `${root}/app/db/user`]);
  });

  it('stays on the path boundary and ignores the data of directories', async () => {
    const prefix = `${root}/app/db`;
    const { index } = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    const waiting = client.watchPrefix(prefix, [prefix], { waitIndex: index, signal: never });
    await fixture.setData(`${root}/app/dbx/host`, 'elsewhere');
    await fixture.setData(`${root}/app/db`, 'data of a directory is not a value');
    await fixture.setData(`${root}/app/db/host`, 'db3.local');
    // Had either earlier write woken the watch, its changed keys would not be exactly this.
    expect((await waiting).changedKeys).to.deep.equal([`${root}/app/db/host`]);
  });

  it('reports a key created after arming, even when its parents did not exist yet', async () => {
    const key = `${root}/later/deep/down/key`;
    const { index } = await client.watchPrefix(key, [key], { waitIndex: 0, signal: never });
    expect(await client.getValues([key])).to.deep.equal({});
    const waiting = client.watchPrefix(key, [key], { waitIndex: index, signal: never });
    await fixture.put(key, 'created');
    expect((await waiting).changedKeys).to.deep.equal([key]);
    expect(await client.getValues([key])).to.deep.equal({ [key]: 'created' });
  });

  it('reports a subtree created under a missing prefix, node by node as it appears', async () => {
    const prefix = `${root}/fresh`;
    const { index } = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    await fixture.put(`${prefix}/a/b/c`, 'deep');
    await fixture.put(`${prefix}/a/d`, 'shallow');
    const changed = new Set<string>();
    let at = index;
    while (!changed.has(`${prefix}/a/b/c`) || !changed.has(`${prefix}/a/d`)) {
      const result = await client.watchPrefix(prefix, [prefix], { waitIndex: at, signal: never });
      expect(result.changedKeys).to.not.equal(undefined);
      for (const key of result.changedKeys ?? []) changed.add(key);
      at = result.index;
    }
    expect(await client.getValues([prefix])).to.deep.equal({
      [`${prefix}/a/b/c`]: 'deep',
      [`${prefix}/a/d`]: 'shallow',
    });
  });

  it('reports deleted nodes: a leaf, then every leaf of a deleted subtree', async () => {
    const prefix = `${root}/gone`;
    await fixture.put(`${prefix}/leaf`, '1');
    await fixture.put(`${prefix}/dir/x`, '2');
    await fixture.put(`${prefix}/dir/y/z`, '3');
    const { index } = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    const first = client.watchPrefix(prefix, [prefix], { waitIndex: index, signal: never });
    await fixture.remove(`${prefix}/leaf`);
    const afterLeaf = await first;
    expect(afterLeaf.changedKeys).to.deep.equal([`${prefix}/leaf`]);
    // Removed bottom up, so /dir/y and /dir briefly are empty leaves, and values, on the way.
    await fixture.remove(`${prefix}/dir`);
    const changed = await collectUntil(client, prefix, afterLeaf.index, {});
    expect([...changed]).to.include.members([`${prefix}/dir/x`, `${prefix}/dir/y/z`]);
    expect([...changed].every((key) => key.startsWith(`${prefix}/dir`))).to.equal(true);
  });

  it('reports a leaf that gains a child as no longer being a value', async () => {
    const prefix = `${root}/grow`;
    await fixture.put(`${prefix}/node`, 'was a value');
    const { index } = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    const waiting = client.watchPrefix(prefix, [prefix], { waitIndex: index, signal: never });
    await fixture.put(`${prefix}/node/child`, 'now the value');
    const changed = new Set((await waiting).changedKeys);
    expect(changed.has(`${prefix}/node`)).to.equal(true);
    await eventually(
      async () => (await client.getValues([prefix]))[`${prefix}/node/child`] === 'now the value',
      'the child to be read',
    );
    expect(await client.getValues([prefix])).to.deep.equal({ [`${prefix}/node/child`]: 'now the value' });
  });

  it('watches a deleted prefix root for its re-creation', async () => {
    const prefix = `${root}/phoenix`;
    await fixture.put(`${prefix}/k`, 'v1');
    const { index } = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    await fixture.remove(prefix);
    const changed = await collectUntil(client, prefix, index, {});
    expect([...changed]).to.include(`${prefix}/k`);
    const { index: gone } = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    const waiting = client.watchPrefix(prefix, [prefix], { waitIndex: gone, signal: never });
    await fixture.put(`${prefix}/k`, 'v2');
    const created = await waiting;
    expect(created.changedKeys).to.include(`${prefix}/k`);
    await collectUntil(client, prefix, created.index, { [`${prefix}/k`]: 'v2' });
  });

  it('loses none of 200 rapid updates to one key: a re-arming caller ends on the last value', async () => {
    const key = `${root}/rapid/key`;
    await fixture.put(key, 'start');
    const armed = await client.watchPrefix(`${root}/rapid`, [key], { waitIndex: 0, signal: never });
    const following = follow(client, `${root}/rapid`, key, 'v199', armed.index);
    // Issued back to back on one session: ZooKeeper applies them in order, so v199 is the last.
    await Promise.all(Array.from({ length: 200 }, (_, i) => fixture.setData(key, `v${i}`)));
    const seen = await following;
    expect(seen.length).to.be.greaterThan(0);
    expect(
      seen.every((result) => result.changedKeys?.length === 1 && result.changedKeys[0] === key),
    ).to.equal(true);
    expect(await client.getValues([key])).to.deep.equal({ [key]: 'v199' });
    // The cache the answers come from agrees with a client that never watched.
    const plain = await createClient(backendOptions([endpoint]), logger);
    try {
      expect(await plain.getValues([`${root}/rapid`])).to.deep.equal(
        await client.getValues([`${root}/rapid`]),
      );
    } finally {
      await plain.close();
    }
  });

  it('rejects an aborted call with an AbortError and keeps the shared watch for the others', async () => {
    const prefix = `${root}/app/db`;
    const { index } = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    const ac = new AbortController();
    const aborted = client.watchPrefix(prefix, [prefix], { waitIndex: index, signal: ac.signal });
    const other = client.watchPrefix(prefix, [prefix], { waitIndex: index, signal: never });
    ac.abort();
    const err = await aborted.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.name).to.equal('AbortError');
    await fixture.setData(`${root}/app/db/host`, 'after abort');
    expect((await other).changedKeys).to.deep.equal([`${root}/app/db/host`]);
  });

  it('sets one watch per node for 50 callers of a prefix: the server holds the watches of ONE cache', async () => {
    const prefix = `${root}/shared`;
    for (const name of ['a', 'b', 'c/d', 'c/e']) await fixture.put(`${prefix}/${name}`, name);
    const fresh = await createClient(backendOptions([endpoint]), logger);
    try {
      const baseline = await totalWatches(endpoint);
      const first = await fresh.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
      const withOne = (await totalWatches(endpoint)) - baseline;
      // Six znodes (shared, a, b, c, c/d, c/e): one data watch each (wchs does not count child watches).
      expect(withOne).to.equal(6);
      const armed = await Promise.all(
        Array.from({ length: 50 }, () =>
          fresh.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never }),
        ),
      );
      const waiting = armed.map(({ index }) =>
        fresh.watchPrefix(prefix, [prefix], { waitIndex: index, signal: never }),
      );
      expect((await totalWatches(endpoint)) - baseline).to.equal(withOne);
      await fixture.setData(`${prefix}/c/d`, 'changed');
      const results = await Promise.all(waiting);
      expect(results.map((r) => r.changedKeys)).to.deep.equal(results.map(() => [`${prefix}/c/d`]));
      expect(new Set(results.map((r) => r.index)).size).to.equal(1);
      expect(results[0]?.index).to.be.greaterThan(first.index);
      // Re-armed after the change, still one set.
      await eventually(
        async () => (await totalWatches(endpoint)) - baseline === withOne,
        'the re-armed watch',
      );
    } finally {
      await fresh.close();
    }
  });

  it('rejects waiting callers with a BackendError on close', async () => {
    const closing = await createClient(backendOptions([endpoint]), logger);
    const { index } = await closing.watchPrefix(root, [root], { waitIndex: 0, signal: never });
    const waiting = closing.watchPrefix(root, [root], { waitIndex: index, signal: never });
    await closing.close();
    const err = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(BackendError);
  });

  describe('when the server restarts with its data while a key changes', () => {
    it('recovers the watch and ends on the value written last', async function () {
      this.timeout(120_000);
      const key = `${root}/restart/key`;
      await fixture.put(key, 'before');
      const armed = await client.watchPrefix(`${root}/restart`, [key], { waitIndex: 0, signal: never });
      const following = follow(client, `${root}/restart`, key, 'final', armed.index);
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i += 1) {
          await fixture.setData(key, `w${i}`).catch(() => sleep(50));
        }
      })();
      try {
        await sleep(200);
        ({ endpoint } = await restartStore('zookeeper', 1));
        await sleep(200);
      } finally {
        writing = false;
        await writer;
      }
      await eventually(
        () =>
          fixture.setData(key, 'final').then(
            () => true,
            () => false,
          ),
        'the fixture client to write again',
        60_000,
      );
      await following;
      expect(await client.getValues([key])).to.deep.equal({ [key]: 'final' });
      // Still watching: a later change is reported as such.
      const { index } = await client.watchPrefix(`${root}/restart`, [key], { waitIndex: 0, signal: never });
      const waiting = client.watchPrefix(`${root}/restart`, [key], { waitIndex: index, signal: never });
      await fixture.setData(key, 'after');
      expect((await waiting).changedKeys).to.deep.equal([key]);
    });
  });

  describe('when the session expires', () => {
    let relay: Relay;
    let cutOff: StoreClient;
    const cutOffLog = new RecordingLogger();

    before(async () => {
      relay = await Relay.start(endpoint);
      // A short session, and a connect timeout long enough that only the server can end it.
      cutOff = await createClient(backendOptions([relay.endpoint], { connectTimeoutMs: 60_000 }), cutOffLog, {
        sessionTimeoutMs: 4000,
      });
    });

    after(async () => {
      await cutOff?.close();
      await relay?.close();
    });

    it('rebuilds the cache from a full read, reports "anything may have changed", and keeps watching', async () => {
      const prefix = `${root}/expiry`;
      const key = `${prefix}/key`;
      await fixture.put(key, 'before');
      const baseline = await totalWatches(endpoint);
      const { index } = await cutOff.watchPrefix(prefix, [key], { waitIndex: 0, signal: never });
      expect(await totalWatches(endpoint)).to.be.greaterThan(baseline);
      const waiting = cutOff.watchPrefix(prefix, [key], { waitIndex: index, signal: never });

      relay.partition();
      // The server drops an expired session's watches: then it is gone for sure.
      await eventually(
        async () => (await totalWatches(endpoint)) === baseline,
        'the session to expire',
        30_000,
      );
      await fixture.setData(key, 'changed while expired');
      relay.heal();

      const result = await waiting;
      expect(result.changedKeys).to.equal(undefined);
      expect(await cutOff.getValues([key])).to.deep.equal({ [key]: 'changed while expired' });
      expect(cutOffLog.lines.some((line) => line.includes('session expired'))).to.equal(true);

      const next = cutOff.watchPrefix(prefix, [key], { waitIndex: result.index, signal: never });
      await fixture.setData(key, 'after expiry');
      expect((await next).changedKeys).to.deep.equal([key]);
      expect(await cutOff.getValues([key])).to.deep.equal({ [key]: 'after expiry' });
    });
  });
});
