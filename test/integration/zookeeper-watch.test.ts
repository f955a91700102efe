import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { createClient, type ZookeeperTuning } from '../../src/backends/zookeeper.js';
import type {
  BackendOptions,
  PrefixWatch,
  StoreClient,
  WatchResult,
} from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import { restartStore, useStore } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { RecordingLogger } from '../support/loggers.js';
import { hostPort } from '../support/net.js';
import { eventually, never } from '../support/async.js';
import { ZkFixture } from './support/zookeeper-fixture.js';
import { packetsReceived } from './support/four-letter-word.js';
import { expectInWriteOrder, follow, keepWriting } from './support/follow.js';

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

/** The session id (0x...) of the client connected from one of local ports `ports`, from `cons`. */
async function sessionFrom(endpoint: string, ports: readonly number[]): Promise<string> {
  const answer = await fourLetterWord(endpoint, 'cons');
  const lines = answer.split('\n').filter((l) => ports.some((port) => l.includes(`:${port}[`)));
  const sid = lines.map((line) => /sid=(0x[0-9a-f]+)/.exec(line)?.[1]).find((id) => id !== undefined);
  if (!sid) throw new Error(`no session from ports ${ports.join(',')} in: ${answer}`);
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
  /** Accept connections and never answer: a server that took the socket and hangs. */
  private silent = false;

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
    if (this.silent) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
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

  /** From now on, connections are accepted and never answered (not even the handshake). */
  silence(): void {
    this.cut = false;
    this.silent = true;
  }

  async close(): Promise<void> {
    this.partition();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The next change after `index` (default: the index it was armed at) under the watched prefix. */
function next(watch: PrefixWatch, index = watch.index, signal = never()): Promise<WatchResult> {
  return watch.next(index, [watch.prefix], { signal });
}

/** What `watch` rejects with once it has handed out every change it buffered before failing. */
async function failure(watch: PrefixWatch): Promise<unknown> {
  let index = watch.index;
  for (;;) {
    try {
      index = (await next(watch, index)).index;
    } catch (err) {
      return err;
    }
  }
}

/**
 * Keeps following `watch` from `index` until every key of `expected` was reported changed; returns every
 * key reported on the way and the last index. Fails if a report says "anything may have changed".
 */
async function collectUntil(
  watch: PrefixWatch,
  index: number,
  expected: readonly string[],
): Promise<{ changed: Set<string>; index: number }> {
  const changed = new Set<string>();
  let at = index;
  while (!expected.every((key) => changed.has(key))) {
    const result = await next(watch, at);
    if (!result.changedKeys) throw new Error('unexpected "anything may have changed"');
    for (const key of result.changedKeys) changed.add(key);
    at = result.index;
  }
  return { changed, index: at };
}

/** Waits until getValues of `prefix` equals `wanted`. */
async function valuesBecome(
  client: StoreClient,
  prefix: string,
  wanted: Record<string, string>,
): Promise<void> {
  await eventually(
    async () =>
      JSON.stringify(Object.fromEntries(await client.getValues([prefix]))) === JSON.stringify(wanted),
    `${prefix} to hold ${JSON.stringify(wanted)}`,
  );
}

for (const persistent of [true, false]) {
  describe(`zookeeper watch: ${persistent ? 'one persistent recursive watch' : 'one-shot watches on every node (the fallback)'} per prefix (real server)`, function () {
    this.timeout(60_000);

    let endpoint: string;
    let fixture: ZkFixture;
    let client: StoreClient;
    const logger = new RecordingLogger();
    const root = `/confd-watch-${randomBytes(4).toString('hex')}`;
    /** The fallback is what a server older than 3.6 gets; forced here on a current one. */
    const connectClient = (options: BackendOptions, log: RecordingLogger, tuning: ZookeeperTuning = {}) =>
      createClient(options, log, persistent ? tuning : { ...tuning, persistentWatches: false });

    before(async function () {
      this.timeout(180_000);
      ({ endpoint } = await useStore('zookeeper'));
      fixture = await ZkFixture.connect(endpoint);
      await fixture.put(`${root}/app/db/host`, 'db.local');
      await fixture.put(`${root}/app/db/port`, '5432');
      await fixture.put(`${root}/app/dbx/host`, 'other.local');
      client = await connectClient(storeOptions([endpoint]), logger);
    });

    after(async () => {
      await client?.close();
      if (fixture) {
        await fixture.remove(root);
        fixture.close();
      }
    });

    it('arms with an index, then reports an update with exactly the changed key', async () => {
      const prefix = `${root}/app/db`;
      const watch = await client.watch(prefix);
      expect(watch.index).to.be.greaterThan(0);
      const waiting = next(watch);
      await fixture.setData(`${root}/app/db/host`, 'db2.local');
      const result = await waiting;
      expect(result.index).to.be.greaterThan(watch.index);
      expect(result.changedKeys).to.deep.equal([`${root}/app/db/host`]);
      expect(Object.fromEntries(await client.getValues([prefix]))).to.deep.equal({
        [`${root}/app/db/host`]: 'db2.local',
        [`${root}/app/db/port`]: '5432',
      });
      watch.release();
    });

    it('answers the read a reported change prompts from its mirror, not from the server', async () => {
      const prefix = `${root}/app/db`;
      const watch = await client.watch(prefix);
      // Read the moment the change is reported, as the daemon does.
      const read = next(watch).then(() => client.getValues([prefix]));
      const before = await packetsReceived(endpoint);
      await fixture.setData(`${root}/app/db/port`, '7654');
      expect(Object.fromEntries(await read)).to.deep.include({ [`${root}/app/db/port`]: '7654' });
      const requests = (await packetsReceived(endpoint)) - before;
      // The fixture's setData, the mirror's re-read of the node and the second mntr (3; up to two more for
      // pings): reading the prefix from the server adds a read of it, its listing and a read of each leaf.
      expect(requests).to.be.at.most(5);
      watch.release();
    });

    it('keeps changes made while nobody waits and hands them to the next call', async () => {
      const prefix = `${root}/app/db`;
      const watch = await client.watch(prefix);
      await fixture.setData(`${root}/app/db/port`, '6543');
      await fixture.put(`${root}/app/db/user`, 'admin');
      const { changed } = await collectUntil(watch, watch.index, [
        `${root}/app/db/port`,
        `${root}/app/db/user`,
      ]);
      expect([...changed].sort()).to.deep.equal([`${root}/app/db/port`, `${root}/app/db/user`]);
      watch.release();
    });

    it('stays on the path boundary and ignores the data of directories', async () => {
      const prefix = `${root}/app/db`;
      const watch = await client.watch(prefix);
      const waiting = next(watch);
      await fixture.setData(`${root}/app/dbx/host`, 'elsewhere');
      await fixture.setData(`${root}/app/db`, 'data of a directory is not a value');
      await fixture.setData(`${root}/app/db/host`, 'db3.local');
      // Had either earlier write woken the watch, its changed keys would not be exactly this.
      expect((await waiting).changedKeys).to.deep.equal([`${root}/app/db/host`]);
      watch.release();
    });

    it('reports a key created after arming, even when its parents did not exist yet', async () => {
      const key = `${root}/later/deep/down/key`;
      const watch = await client.watch(key);
      expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({});
      const waiting = next(watch);
      await fixture.put(key, 'created');
      expect((await waiting).changedKeys).to.deep.equal([key]);
      expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({ [key]: 'created' });
      watch.release();
    });

    it('reports a subtree created under a missing prefix, node by node as it appears', async () => {
      const prefix = `${root}/fresh`;
      const watch = await client.watch(prefix);
      await fixture.put(`${prefix}/a/b/c`, 'deep');
      await fixture.put(`${prefix}/a/d`, 'shallow');
      await collectUntil(watch, watch.index, [`${prefix}/a/b/c`, `${prefix}/a/d`]);
      expect(Object.fromEntries(await client.getValues([prefix]))).to.deep.equal({
        [`${prefix}/a/b/c`]: 'deep',
        [`${prefix}/a/d`]: 'shallow',
      });
      watch.release();
    });

    it('reports deleted nodes: a leaf, then every leaf of a deleted subtree', async () => {
      const prefix = `${root}/gone`;
      await fixture.put(`${prefix}/leaf`, '1');
      await fixture.put(`${prefix}/dir/x`, '2');
      await fixture.put(`${prefix}/dir/y/z`, '3');
      const watch = await client.watch(prefix);
      const first = next(watch);
      await fixture.remove(`${prefix}/leaf`);
      const afterLeaf = await first;
      expect(afterLeaf.changedKeys).to.deep.equal([`${prefix}/leaf`]);
      // Removed bottom up, so /dir/y and /dir briefly are empty leaves, and values, on the way; and the
      // prefix itself, without children now, is an empty leaf in the end.
      await fixture.remove(`${prefix}/dir`);
      const { changed } = await collectUntil(watch, afterLeaf.index, [
        `${prefix}/dir/x`,
        `${prefix}/dir/y/z`,
      ]);
      await valuesBecome(client, prefix, { [prefix]: '' });
      expect([...changed].every((key) => key.startsWith(`${prefix}/dir`) || key === prefix)).to.equal(true);
      watch.release();
    });

    it('reports a leaf that gains a child as no longer being a value', async () => {
      const prefix = `${root}/grow`;
      await fixture.put(`${prefix}/node`, 'was a value');
      const watch = await client.watch(prefix);
      const waiting = next(watch);
      await fixture.put(`${prefix}/node/child`, 'now the value');
      const changed = new Set((await waiting).changedKeys);
      expect(changed.has(`${prefix}/node`)).to.equal(true);
      await valuesBecome(client, prefix, { [`${prefix}/node/child`]: 'now the value' });
      watch.release();
    });

    it('watches a deleted prefix root for its re-creation', async () => {
      const prefix = `${root}/phoenix`;
      await fixture.put(`${prefix}/k`, 'v1');
      const watch = await client.watch(prefix);
      await fixture.remove(prefix);
      const { index } = await collectUntil(watch, watch.index, [`${prefix}/k`]);
      await valuesBecome(client, prefix, {});
      // mkdirp creates the prefix first (an empty leaf for a moment), then the key below it.
      await fixture.put(`${prefix}/k`, 'v2');
      await collectUntil(watch, index, [`${prefix}/k`]);
      await valuesBecome(client, prefix, { [`${prefix}/k`]: 'v2' });
      watch.release();
    });

    it('loses none of 200 rapid updates to one key: a follower ends on the last value, read in order', async () => {
      const key = `${root}/rapid/key`;
      await fixture.put(key, 'start');
      const watch = await client.watch(`${root}/rapid`);
      const following = follow(client, watch, key, 'v199');
      // Issued back to back on one session: ZooKeeper applies them in order, so v199 is the last.
      const written = Array.from({ length: 200 }, (_, i) => `v${i}`);
      await Promise.all(written.map((value) => fixture.setData(key, value)));
      const { seen, values, failures, retried } = await following;
      expect(failures).to.deep.equal([]);
      expect(retried).to.deep.equal([]);
      expect(values.at(-1)).to.equal('v199');
      expectInWriteOrder(values, ['start', ...written]);
      expect(
        seen.every((result) => result.changedKeys?.length === 1 && result.changedKeys[0] === key),
      ).to.equal(true);
      // The cache the answers come from agrees with a client that never watched.
      const plain = await connectClient(storeOptions([endpoint]), logger);
      try {
        expect(await plain.getValues([`${root}/rapid`])).to.deep.equal(
          await client.getValues([`${root}/rapid`]),
        );
      } finally {
        await plain.close();
      }
      watch.release();
    });

    it('rejects an aborted call with an AbortError and keeps the shared watch for the others', async () => {
      const prefix = `${root}/app/db`;
      const watch = await client.watch(prefix);
      const ac = new AbortController();
      const aborted = next(watch, watch.index, ac.signal);
      const other = next(watch);
      ac.abort();
      const err = await aborted.then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.name).to.equal('AbortError');
      await fixture.setData(`${root}/app/db/host`, 'after abort');
      expect((await other).changedKeys).to.deep.equal([`${root}/app/db/host`]);
      watch.release();
    });

    if (persistent) {
      it('sets ONE persistent watch for a prefix and 50 holders, kept across changes, removed with the last release', async () => {
        const prefix = `${root}/shared-persistent`;
        for (const name of ['a', 'b', 'c/d', 'c/e']) await fixture.put(`${prefix}/${name}`, name);
        const fresh = await connectClient(storeOptions([endpoint]), logger);
        try {
          const baseline = await totalWatches(endpoint);
          const first = await fresh.watch(prefix);
          // Six znodes, one watch: what the server holds per client no longer grows with the subtree.
          expect((await totalWatches(endpoint)) - baseline).to.equal(1);
          const holders = await Promise.all(Array.from({ length: 50 }, () => fresh.watch(prefix)));
          const waiting = holders.map((watch) => next(watch, first.index));
          expect((await totalWatches(endpoint)) - baseline).to.equal(1);
          await fixture.setData(`${prefix}/c/d`, 'changed');
          const results = await Promise.all(waiting);
          expect(results.map((r) => r.changedKeys)).to.deep.equal(results.map(() => [`${prefix}/c/d`]));
          expect(new Set(results.map((r) => r.index)).size).to.equal(1);
          // Nothing to set again after a notification: still the one watch, and it still reports.
          expect((await totalWatches(endpoint)) - baseline).to.equal(1);
          const second = next(first, results[0]?.index);
          await fixture.put(`${prefix}/c/f`, 'new');
          expect((await second).changedKeys).to.deep.equal([`${prefix}/c/f`]);
          // Released by every holder: the watch is removed from the server.
          for (const watch of [first, ...holders]) watch.release();
          await eventually(
            async () => (await totalWatches(endpoint)) === baseline,
            'the watch to be removed',
          );
          const again = await fresh.watch(prefix);
          expect((await totalWatches(endpoint)) - baseline).to.equal(1);
          const changed = next(again);
          await fixture.setData(`${prefix}/b`, 'watched again');
          expect((await changed).changedKeys).to.deep.equal([`${prefix}/b`]);
          await fresh.close();
          await eventually(async () => (await totalWatches(endpoint)) === baseline, 'the watches to go');
        } finally {
          await fresh.close();
        }
      });
    }

    if (!persistent) {
      it('sets one watch per node for 50 holders of a prefix, and stops re-arming them with the last release', async () => {
        const prefix = `${root}/shared`;
        for (const name of ['a', 'b', 'c/d', 'c/e']) await fixture.put(`${prefix}/${name}`, name);
        const fresh = await connectClient(storeOptions([endpoint]), logger);
        try {
          const baseline = await totalWatches(endpoint);
          const first = await fresh.watch(prefix);
          const withOne = (await totalWatches(endpoint)) - baseline;
          // Six znodes (shared, a, b, c, c/d, c/e): one data watch each (wchs does not count child watches).
          expect(withOne).to.equal(6);
          const holders = await Promise.all(Array.from({ length: 50 }, () => fresh.watch(prefix)));
          const waiting = holders.map((watch) => next(watch, first.index));
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
          // Released by every holder: ZooKeeper cannot drop a watch before it fires, but a fired one is no
          // longer set again, so the server's count goes down with every change.
          for (const watch of [first, ...holders]) watch.release();
          await fixture.setData(`${prefix}/a`, 'after release');
          await eventually(
            async () => (await totalWatches(endpoint)) - baseline === withOne - 1,
            'the fired watch of /a not to be set again',
          );
          expect(Object.fromEntries(await fresh.getValues([prefix]))).to.deep.include({
            [`${prefix}/a`]: 'after release',
          });
          // Armed again: a fresh cache, watching every node again.
          const again = await fresh.watch(prefix);
          expect((await totalWatches(endpoint)) - baseline).to.equal(withOne);
          const changed = next(again);
          await fixture.setData(`${prefix}/b`, 'watched again');
          expect((await changed).changedKeys).to.deep.equal([`${prefix}/b`]);
          // Closing the client ends its session, and every watch with it.
          await fresh.close();
          await eventually(async () => (await totalWatches(endpoint)) === baseline, 'the watches to go');
        } finally {
          await fresh.close();
        }
      });
    }

    it('rejects waiting callers with a BackendError on close, and later arms too', async () => {
      const closing = await connectClient(storeOptions([endpoint]), logger);
      const watch = await closing.watch(root);
      const waiting = next(watch);
      await closing.close();
      const err = await waiting.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(BackendError);
      expect(await closing.watch(root).catch((e: unknown) => e)).to.be.instanceOf(BackendError);
    });

    /**
     * fixture.setData; a fixture the restart left unusable (its session outlasted, or a request never
     * answered) is replaced, so that no later test or hook waits on it.
     */
    async function fixtureWrite(key: string, value: string): Promise<void> {
      try {
        await fixture.setData(key, value);
      } catch (err) {
        if (fixture.unusable(err)) {
          fixture.close();
          fixture = await ZkFixture.connect(endpoint);
        }
        throw err;
      }
    }

    describe('when the server restarts with its data while a key changes', () => {
      /**
       * Restarts the server under a writer (which wrote before the restart and again after it), then writes
       * 'final' once the server takes writes again. Returns every value written, in order.
       */
      async function restartWhileWriting(key: string, downSeconds: number): Promise<string[]> {
        const writer = keepWriting((value) => fixtureWrite(key, value));
        try {
          await eventually(() => writer.written.length > 0, 'a write before the restart');
          ({ endpoint } = await restartStore('zookeeper', downSeconds));
          const upAgain = writer.written.length;
          await eventually(() => writer.written.length > upAgain, 'a write after the restart', 60_000);
        } finally {
          await writer.stop();
        }
        await eventually(
          () =>
            fixtureWrite(key, 'final').then(
              () => true,
              () => false,
            ),
          'the fixture client to write again',
          60_000,
        );
        return [...writer.written, 'final'];
      }

      it('keeps the session (short outage): the follower ends on the value written last, on the same session', async function () {
        this.timeout(120_000);
        const prefix = `${root}/restart`;
        const key = `${prefix}/key`;
        await fixture.put(key, 'before');
        const patientLog = new RecordingLogger();
        // Reconnecting may take longer than the default connect timeout while the server starts up.
        const patient = await connectClient(
          storeOptions([endpoint], { connectTimeoutMs: 30_000 }),
          patientLog,
        );
        try {
          const watch = await patient.watch(prefix);
          const following = follow(patient, watch, key, 'final');
          following.catch(() => undefined);
          const written = await restartWhileWriting(key, 1);
          const followed = await following;
          // The session survived: no new one was opened. (A change whose re-read was in flight when the
          // server went down may still fail the watch, which the follower then armed again.)
          expect(
            patientLog.lines.some((line) => line.includes('opening a new one')),
            patientLog.lines.join('\n'),
          ).to.equal(false);
          expect(followed.failures.every((err) => err.message.includes('connection lost'))).to.equal(true);
          expect(followed.values.at(-1)).to.equal('final');
          expectInWriteOrder(followed.values, ['before', ...written]);
          // Still following: a later change reaches the follower, still on the same session. (Just after a
          // restart the server may drop a fresh connection once more, failing a re-read; hence a follower.)
          const again = follow(patient, followed.watch, key, 'after');
          again.catch(() => undefined);
          await fixture.setData(key, 'after');
          const later = await again;
          expect(later.values.at(-1)).to.equal('after');
          expect(
            later.seen.concat(followed.seen).every((r) => r.changedKeys?.every((k) => k === key) ?? true),
          ).to.equal(true);
          expect(patientLog.lines.some((line) => line.includes('opening a new one'))).to.equal(false);
        } finally {
          await patient.close();
        }
      });

      it('fails the watch while the server is away too long; a fresh watch on a new session sees the writes', async function () {
        this.timeout(120_000);
        const prefix = `${root}/outage`;
        const key = `${prefix}/key`;
        await fixture.put(key, 'before');
        const impatientLog = new RecordingLogger();
        const impatient = await connectClient(
          storeOptions([endpoint], { connectTimeoutMs: 1500 }),
          impatientLog,
        );
        try {
          const watch = await impatient.watch(prefix);
          const following = follow(impatient, watch, key, 'final');
          following.catch(() => undefined);
          const written = await restartWhileWriting(key, 4);
          const followed = await following;
          // The follower saw the store away: its watch failed, or a read or an arm did.
          const errors = [...followed.failures, ...followed.retried];
          expect(errors.length).to.be.greaterThan(0);
          expect(errors.every((err) => err.backend === 'zookeeper')).to.equal(true);
          expect(impatientLog.lines.some((line) => line.includes('opening a new one'))).to.equal(true);
          expect(followed.values.at(-1)).to.equal('final');
          expectInWriteOrder(followed.values, ['before', ...written]);
          // The watch armed before the outage failed for good, whatever it had buffered before.
          expect(await failure(watch)).to.be.instanceOf(BackendError);
          followed.watch.release();
          const fresh = await impatient.watch(prefix);
          expect(Object.fromEntries(await impatient.getValues([key]))).to.deep.equal({ [key]: 'final' });
          const waiting = next(fresh);
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
        cutOff = await connectClient(
          storeOptions([relay.endpoint], { connectTimeoutMs: 60_000 }),
          cutOffLog,
          {
            sessionTimeoutMs: 4000,
          },
        );
      });

      after(async () => {
        await cutOff?.close();
        await relay?.close();
      });

      it('fails the watch with a BackendError; a fresh watch reads what changed while expired, and keeps watching', async () => {
        const prefix = `${root}/expiry`;
        const key = `${prefix}/key`;
        await fixture.put(key, 'before');
        const watch = await cutOff.watch(prefix);
        const waiting = next(watch).catch((e: unknown) => e);
        // The session's connection, not the version probe's (srvr, also through the relay).
        const sid = await sessionFrom(endpoint, relay.upstreamPorts);

        relay.partition();
        await eventually(async () => !(await sessionExists(endpoint, sid)), 'the session to expire', 30_000);
        await fixture.setData(key, 'changed while expired');
        relay.heal();

        const err = await waiting;
        expect(err).to.be.instanceOf(BackendError);
        expect((err as BackendError).backend).to.equal('zookeeper');
        expect((err as Error).message).to.contain('session expired');
        // The tree cache went with its session, for good.
        expect(await failure(watch)).to.be.instanceOf(BackendError);

        watch.release();
        const fresh = await cutOff.watch(prefix);
        expect(cutOffLog.lines.some((line) => line.includes('opening a new one'))).to.equal(true);
        expect(Object.fromEntries(await cutOff.getValues([key]))).to.deep.equal({
          [key]: 'changed while expired',
        });
        const changed = next(fresh);
        await fixture.setData(key, 'after expiry');
        expect((await changed).changedKeys).to.deep.equal([key]);
        expect(Object.fromEntries(await cutOff.getValues([key]))).to.deep.equal({ [key]: 'after expiry' });
      });

      it('closes at once while the new session waits on a server that never answers the handshake', async function () {
        // Shorter than the connect timeout below: without close() ending the attempt, this times out.
        this.timeout(45_000);
        const prefix = `${root}/expiry-close`;
        await fixture.put(`${prefix}/key`, 'before');
        const silentRelay = await Relay.start(endpoint);
        // The connect timeout (60 s) outlasts this test: only close() can end the attempt in time.
        const stuck = await connectClient(
          storeOptions([silentRelay.endpoint], { connectTimeoutMs: 60_000 }),
          new RecordingLogger(),
          { sessionTimeoutMs: 4000 },
        );
        try {
          const watch = await stuck.watch(prefix);
          const sid = await sessionFrom(endpoint, silentRelay.upstreamPorts);
          silentRelay.partition();
          await eventually(
            async () => !(await sessionExists(endpoint, sid)),
            'the session to expire',
            30_000,
          );
          silentRelay.heal();
          expect(await failure(watch)).to.be.instanceOf(BackendError);
          watch.release();
          silentRelay.silence();
          // A new session is opened, and its handshake is never answered.
          const arming = stuck.watch(prefix).catch((e: unknown) => e);
          const reading = stuck.getValues([prefix]).catch((e: unknown) => e);
          await stuck.close();
          expect(await arming).to.be.instanceOf(BackendError);
          expect(await reading).to.be.instanceOf(BackendError);
        } finally {
          await stuck.close();
          await silentRelay.close();
        }
      });
    });
  });
}
