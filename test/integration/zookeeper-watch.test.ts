import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { createClient } from '../../src/backends/zookeeper.js';
import type { BackendOptions, StoreClient } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import { restartStore, useStore } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { RecordingLogger } from '../support/loggers.js';
import { hostPort } from '../support/net.js';
import { eventually } from '../support/async.js';
import { ZkFixture } from './support/zookeeper-fixture.js';
import { follow } from './support/follow.js';

const storeOptions = (nodes: string[], extra: Partial<BackendOptions> = {}): BackendOptions =>
  backendOptions({ backend: 'zookeeper', nodes, ...extra });

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

/** The session id (0x...) of the client connected from local port `port`, from `cons`. */
async function sessionFrom(endpoint: string, port: number): Promise<string> {
  const answer = await fourLetterWord(endpoint, 'cons');
  const line = answer.split('\n').find((l) => l.includes(`:${port}[`));
  const sid = /sid=(0x[0-9a-f]+)/.exec(line ?? '')?.[1];
  if (!sid) throw new Error(`no session from port ${port} in: ${answer}`);
  return sid;
}

/** Whether the server's session tracker still holds `sid` (connected or not), from `dump`. */
async function sessionExists(endpoint: string, sid: string): Promise<boolean> {
  const answer = await fourLetterWord(endpoint, 'dump');
  return (answer.split('ephemeral nodes dump')[0] ?? '').includes(sid);
}

/**
 * A TCP relay between the client under test and the server, to cut the client off (a network partition)
 * while the server and the fixture client keep running.
 */
class Relay {
  private readonly sockets = new Set<Socket>();
  /** Local ports of the connections to the server, to find them in `cons`. */
  readonly upstreamPorts: number[] = [];
  private cut = false;

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(target: string): Promise<Relay> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('relay has no port');
    const relay = new Relay(server, `127.0.0.1:${address.port}`);
    server.on('connection', (socket: Socket) => relay.accept(socket, target));
    return relay;
  }

  private accept(socket: Socket, target: string): void {
    if (this.cut) {
      socket.destroy();
      return;
    }
    const upstream = connect(hostPort(target), () => {
      if (upstream.localPort !== undefined) this.upstreamPorts.push(upstream.localPort);
    });
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

/** Keeps writing `key` (ignoring failures while the store is away) until `stop` is called. */
function keepWriting(fixture: ZkFixture, key: string): { stop: () => Promise<void> } {
  let writing = true;
  const done = (async () => {
    for (let i = 0; writing; i += 1) await fixture.setData(key, `w${i}`).catch(() => sleep(50));
  })();
  return {
    stop: async () => {
      writing = false;
      await done;
    },
  };
}

/**
 * Keeps following `prefix` from `index` until every key of `expected` was reported changed, and returns
 * every key reported on the way; fails if a report says "anything may have changed".
 */
async function collectUntil(
  client: StoreClient,
  prefix: string,
  index: number,
  expected: readonly string[],
): Promise<Set<string>> {
  const changed = new Set<string>();
  const signal = new AbortController().signal;
  let at = index;
  while (!expected.every((key) => changed.has(key))) {
    const result = await client.watchPrefix(prefix, [prefix], { waitIndex: at, signal });
    if (!result.changedKeys) throw new Error('unexpected "anything may have changed"');
    for (const key of result.changedKeys) changed.add(key);
    at = result.index;
  }
  return changed;
}

/** Waits until getValues of `prefix` equals `wanted`. */
async function valuesBecome(
  client: StoreClient,
  prefix: string,
  wanted: Record<string, string>,
): Promise<void> {
  await eventually(
    async () => JSON.stringify(await client.getValues([prefix])) === JSON.stringify(wanted),
    `${prefix} to hold ${JSON.stringify(wanted)}`,
  );
}

describe('zookeeper watch: tree cache per prefix (real server)', function () {
  this.timeout(60_000);

  let endpoint: string;
  let fixture: ZkFixture;
  let client: StoreClient;
  const logger = new RecordingLogger();
  const root = `/confd-watch-${randomBytes(4).toString('hex')}`;
  const never = new AbortController().signal;

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('zookeeper'));
    fixture = await ZkFixture.connect(endpoint);
    await fixture.put(`${root}/app/db/host`, 'db.local');
    await fixture.put(`${root}/app/db/port`, '5432');
    await fixture.put(`${root}/app/dbx/host`, 'other.local');
    client = await createClient(storeOptions([endpoint]), logger);
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
    // Removed bottom up, so /dir/y and /dir briefly are empty leaves, and values, on the way; and the
    // prefix itself, without children now, is an empty leaf in the end.
    await fixture.remove(`${prefix}/dir`);
    const changed = await collectUntil(client, prefix, afterLeaf.index, [
      `${prefix}/dir/x`,
      `${prefix}/dir/y/z`,
    ]);
    await valuesBecome(client, prefix, { [prefix]: '' });
    expect([...changed].every((key) => key.startsWith(`${prefix}/dir`) || key === prefix)).to.equal(true);
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
    await collectUntil(client, prefix, index, [`${prefix}/k`]);
    await valuesBecome(client, prefix, {});
    const { index: gone } = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    // mkdirp creates the prefix first (an empty leaf for a moment), then the key below it.
    await fixture.put(`${prefix}/k`, 'v2');
    await collectUntil(client, prefix, gone, [`${prefix}/k`]);
    await valuesBecome(client, prefix, { [`${prefix}/k`]: 'v2' });
  });

  it('loses none of 200 rapid updates to one key: a re-arming caller ends on the last value', async () => {
    const key = `${root}/rapid/key`;
    await fixture.put(key, 'start');
    const armed = await client.watchPrefix(`${root}/rapid`, [key], { waitIndex: 0, signal: never });
    const following = follow(client, `${root}/rapid`, key, 'v199', armed.index);
    // Issued back to back on one session: ZooKeeper applies them in order, so v199 is the last.
    await Promise.all(Array.from({ length: 200 }, (_, i) => fixture.setData(key, `v${i}`)));
    const { seen, failures } = await following;
    expect(failures).to.deep.equal([]);
    expect(seen.length).to.be.greaterThan(0);
    expect(
      seen.every((result) => result.changedKeys?.length === 1 && result.changedKeys[0] === key),
    ).to.equal(true);
    expect(await client.getValues([key])).to.deep.equal({ [key]: 'v199' });
    // The cache the answers come from agrees with a client that never watched.
    const plain = await createClient(storeOptions([endpoint]), logger);
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
    const fresh = await createClient(storeOptions([endpoint]), logger);
    try {
      const baseline = await totalWatches(endpoint);
      const first = await fresh.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
      const withOne = (await totalWatches(endpoint)) - baseline;
      // Six znodes (shared, a, b, c, c/d, c/e): one data watch each (wchs does not count child watches).
      expect(withOne).to.equal(6);
      // One signal per caller, as independent callers have.
      const armed = await Promise.all(
        Array.from({ length: 50 }, () =>
          fresh.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: new AbortController().signal }),
        ),
      );
      const waiting = armed.map(({ index }) =>
        fresh.watchPrefix(prefix, [prefix], { waitIndex: index, signal: new AbortController().signal }),
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
    const closing = await createClient(storeOptions([endpoint]), logger);
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
    /** Restarts the server under a writer, then writes 'final' once the server takes writes again. */
    async function restartWhileWriting(key: string, downSeconds: number): Promise<void> {
      const writer = keepWriting(fixture, key);
      try {
        await sleep(200);
        ({ endpoint } = await restartStore('zookeeper', downSeconds));
        await sleep(200);
      } finally {
        await writer.stop();
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
    }

    it('keeps the session (short outage), recovers the watch and ends on the value written last', async function () {
      this.timeout(120_000);
      const prefix = `${root}/restart`;
      const key = `${prefix}/key`;
      await fixture.put(key, 'before');
      const armed = await client.watchPrefix(prefix, [key], { waitIndex: 0, signal: never });
      const following = follow(client, prefix, key, 'final', armed.index);
      following.catch(() => undefined);
      await restartWhileWriting(key, 1);
      const { seen } = await following;
      expect(seen.length).to.be.greaterThan(0);
      expect(await client.getValues([key])).to.deep.equal({ [key]: 'final' });
      // Still watching: a later change is reported as such.
      const { index } = await client.watchPrefix(prefix, [key], { waitIndex: 0, signal: never });
      const waiting = client.watchPrefix(prefix, [key], { waitIndex: index, signal: never });
      await fixture.setData(key, 'after');
      expect((await waiting).changedKeys).to.deep.equal([key]);
    });

    it('fails the waiting callers while the server is away too long, then rebuilds on a new session', async function () {
      this.timeout(120_000);
      const prefix = `${root}/outage`;
      const key = `${prefix}/key`;
      await fixture.put(key, 'before');
      const impatientLog = new RecordingLogger();
      const impatient = await createClient(
        storeOptions([endpoint], { connectTimeoutMs: 1500 }),
        impatientLog,
      );
      try {
        const armed = await impatient.watchPrefix(prefix, [key], { waitIndex: 0, signal: never });
        const following = follow(impatient, prefix, key, 'final', armed.index);
        following.catch(() => undefined);
        await restartWhileWriting(key, 4);
        const { failures } = await following;
        expect(failures.length).to.be.greaterThan(0);
        expect(failures.every((err) => err.backend === 'zookeeper')).to.equal(true);
        expect(impatientLog.lines.some((line) => line.includes('opening a new one'))).to.equal(true);
        expect(await impatient.getValues([key])).to.deep.equal({ [key]: 'final' });
        const { index } = await impatient.watchPrefix(prefix, [key], { waitIndex: 0, signal: never });
        const waiting = impatient.watchPrefix(prefix, [key], { waitIndex: index, signal: never });
        await fixture.setData(key, 'after');
        expect((await waiting).changedKeys).to.deep.equal([key]);
      } finally {
        await impatient.close();
      }
    });
  });

  describe('when the session expires', () => {
    let relay: Relay;
    let cutOff: StoreClient;
    const cutOffLog = new RecordingLogger();

    before(async () => {
      relay = await Relay.start(endpoint);
      // A short session, and a connect timeout long enough that only the server can end it.
      cutOff = await createClient(storeOptions([relay.endpoint], { connectTimeoutMs: 60_000 }), cutOffLog, {
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
      const { index } = await cutOff.watchPrefix(prefix, [key], { waitIndex: 0, signal: never });
      const waiting = cutOff.watchPrefix(prefix, [key], { waitIndex: index, signal: never });
      const port = relay.upstreamPorts.at(-1);
      if (port === undefined) throw new Error('the client is not connected through the relay');
      const sid = await sessionFrom(endpoint, port);

      relay.partition();
      await eventually(async () => !(await sessionExists(endpoint, sid)), 'the session to expire', 30_000);
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
