import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { expect } from 'chai';
import Consul from 'consul';
import { createClient, type ConsulClient, type ConsulTuning } from '../../src/backends/consul.js';
import type { BackendOptions, PrefixWatch, WatchResult } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import { restartStore, useStore } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { RecordingLogger } from '../support/loggers.js';
import { hostPort } from '../support/net.js';
import { eventually, never } from '../support/async.js';
import { expectInWriteOrder, follow, keepWriting } from './support/follow.js';

const storeOptions = (nodes: string[], extra: Partial<BackendOptions> = {}): BackendOptions =>
  backendOptions({ backend: 'consul', nodes, ...extra });

/** The store's own client, for fixtures. */
function fixtureClient(endpoint: string): Consul {
  const { host, port } = hostPort(endpoint);
  return new Consul({ host, port });
}

/** One blocking query seen by the proxy: the KV path and the index it waited on. */
interface BlockingQuery {
  path: string;
  index: number;
}

/**
 * An HTTP proxy in front of the agent that counts the blocking queries (requests with `index=`) in
 * flight per KV path, so tests can see how many the client under test keeps open.
 */
class CountingProxy {
  private readonly inFlight = new Map<string, number>();
  private readonly peak = new Map<string, number>();
  private readonly failing = new Set<string>();
  readonly queries: BlockingQuery[] = [];
  /** KV paths of the requests without `index=` (plain reads), in the order sent. */
  readonly reads: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(target: string): Promise<CountingProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    const proxy = new CountingProxy(server, `127.0.0.1:${address.port}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.forward(req, res, target));
    return proxy;
  }

  /** Blocking queries on `path` open right now. */
  open(path: string): number {
    return this.inFlight.get(path) ?? 0;
  }

  /** The most blocking queries on `path` that were ever open at once. */
  peakOpen(path: string): number {
    return this.peak.get(path) ?? 0;
  }

  /** Answers the next blocking query on `path` with HTTP 500 instead of passing it on. */
  failNextQuery(path: string): void {
    this.failing.add(path);
  }

  /** Blocking queries sent on `path` so far. */
  sent(path: string): number {
    return this.queries.filter((q) => q.path === path).length;
  }

  resetPeaks(): void {
    this.peak.clear();
    for (const [path, count] of this.inFlight) this.peak.set(path, count);
  }

  private forward(req: IncomingMessage, res: ServerResponse, target: string): void {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const index = url.searchParams.get('index');
    if (index === null && url.pathname.startsWith('/v1/kv/'))
      this.reads.push(decodeURIComponent(url.pathname));
    if (index !== null) {
      const path = decodeURIComponent(url.pathname);
      this.queries.push({ path, index: Number(index) });
      const open = this.open(path) + 1;
      this.inFlight.set(path, open);
      this.peak.set(path, Math.max(open, this.peakOpen(path)));
      res.once('close', () => this.inFlight.set(path, this.open(path) - 1));
      if (this.failing.delete(path)) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('injected failure');
        return;
      }
    }
    const upstream = request(
      { ...hostPort(target), method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.once('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Tracks whether a promise has settled yet. */
function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { promise, settled: () => done };
}

describe('consul watch: one blocking query per prefix (real agent)', function () {
  this.timeout(60_000);

  const top = `confd-watch-${randomBytes(4).toString('hex')}`;
  const root = `/${top}`;
  let endpoint: string;
  let kv: Consul;
  let proxy: CountingProxy;
  let client: ConsulClient;
  const logger = new RecordingLogger();

  /** A client through the counting proxy. */
  function proxiedClient(tuning: ConsulTuning = {}): Promise<ConsulClient> {
    return createClient(storeOptions([proxy.endpoint]), logger, tuning);
  }

  /** The next change after `index` (default: the index it was armed at) concerning `keys`. */
  function next(
    watch: PrefixWatch,
    index = watch.index,
    keys: readonly string[] = [watch.prefix],
    signal = never(),
  ): Promise<WatchResult> {
    return watch.next(index, keys, { signal });
  }

  /** The X-Consul-Index after a write: the index a blocking query must pass to see it. */
  async function modifyIndex(key: string): Promise<number> {
    const entry = (await kv.kv.get(key)) as { ModifyIndex: number } | undefined;
    if (!entry) throw new Error(`${key} does not exist`);
    return entry.ModifyIndex;
  }

  /** Waits until the blocking query on `path` has taken in the write of `key` and waits past it. */
  async function absorbed(path: string, key: string): Promise<void> {
    const written = await modifyIndex(key);
    await eventually(
      () => proxy.queries.some((q) => q.path === path && q.index >= written) && proxy.open(path) === 1,
      `a blocking query on ${path} past index ${written}`,
    );
  }

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('consul'));
    kv = fixtureClient(endpoint);
    await kv.kv.set(`${top}/app/db/host`, 'db.local');
    await kv.kv.set(`${top}/app/db/port`, '5432');
    await kv.kv.set(`${top}/app/dbx/host`, 'other.local');
    proxy = await CountingProxy.start(endpoint);
    client = await proxiedClient();
  });

  after(async () => {
    await client?.close();
    await proxy?.close();
    if (kv) {
      await kv.kv.del({ key: `${top}/`, recurse: true }).catch(() => undefined);
      kv.destroy();
    }
  });

  it('arms with an index, then reports an update with exactly the changed key', async () => {
    const prefix = `${root}/app/db`;
    const watch = await client.watch(prefix);
    expect(watch.index).to.be.greaterThan(0);
    const waiting = next(watch);
    await kv.kv.set(`${top}/app/db/host`, 'db2.local');
    const result = await waiting;
    expect(result.index).to.be.greaterThan(watch.index);
    expect(result.changedKeys).to.deep.equal([`${root}/app/db/host`]);
    expect(Object.fromEntries(await client.getValues([prefix]))).to.deep.equal({
      [`${root}/app/db/host`]: 'db2.local',
      [`${root}/app/db/port`]: '5432',
    });
    watch.release();
  });

  it('keeps changes made while nobody waits and hands them to the next call', async () => {
    const prefix = `${root}/app/db`;
    const watch = await client.watch(prefix);
    await kv.kv.set(`${top}/app/db/port`, '6543');
    await kv.kv.set(`${top}/app/db/user`, 'admin');
    const changed = new Set<string>();
    let at = watch.index;
    while (changed.size < 2) {
      const result = await next(watch, at);
      for (const key of result.changedKeys ?? []) changed.add(key);
      at = result.index;
    }
    expect([...changed].sort()).to.deep.equal([`${root}/app/db/port`, `${root}/app/db/user`]);
    watch.release();
  });

  it('wakes nobody for writes past the path boundary, same-value writes or folder entries', async () => {
    const prefix = `${root}/app/db`;
    const path = `/v1/kv/${top}/app/db`;
    await kv.kv.set(`${top}/app/db/port`, '7000');
    const watch = await client.watch(prefix);
    await absorbed(path, `${top}/app/db/port`);
    const waiting = track(next(watch));
    for (const [key, value] of [
      [`${top}/app/dbx/host`, 'elsewhere'],
      [`${top}/app/db/port`, '7000'],
      [`${top}/app/db/folder/`, ''],
    ] as const) {
      await kv.kv.set(key, value);
      await absorbed(path, key);
    }
    expect(waiting.settled()).to.equal(false);
    await kv.kv.set(`${top}/app/db/host`, 'db3.local');
    expect((await waiting.promise).changedKeys).to.deep.equal([`${root}/app/db/host`]);
    watch.release();
  });

  it('repeats a blocking query whose wait ran out without waking anybody', async () => {
    const prefix = `${root}/quiet`;
    const path = `/v1/kv/${top}/quiet`;
    await kv.kv.set(`${top}/quiet/key`, 'v1');
    const shortWait = await proxiedClient({ watchWaitS: 1 });
    try {
      const watch = await shortWait.watch(prefix);
      const waiting = track(next(watch));
      await eventually(() => {
        const indexes = proxy.queries.filter((q) => q.path === path).map((q) => q.index);
        return indexes.length >= 3 && new Set(indexes).size === 1;
      }, 'the same blocking query to be sent three times');
      expect(waiting.settled()).to.equal(false);
      await kv.kv.set(`${top}/quiet/key`, 'v2');
      expect((await waiting.promise).changedKeys).to.deep.equal([`${root}/quiet/key`]);
    } finally {
      await shortWait.close();
    }
  });

  it('reports a key created after arming under a prefix that did not exist, then its deletion', async () => {
    const prefix = `${root}/later`;
    const key = `${prefix}/deep/key`;
    const watch = await client.watch(prefix);
    expect(Object.fromEntries(await client.getValues([prefix]))).to.deep.equal({});
    const created = next(watch);
    await kv.kv.set(key.slice(1), 'created');
    const afterCreate = await created;
    expect(afterCreate.changedKeys).to.deep.equal([key]);
    expect(Object.fromEntries(await client.getValues([prefix]))).to.deep.equal({ [key]: 'created' });
    const deleted = next(watch, afterCreate.index);
    await kv.kv.del(key.slice(1));
    expect((await deleted).changedKeys).to.deep.equal([key]);
    expect(Object.fromEntries(await client.getValues([prefix]))).to.deep.equal({});
    watch.release();
  });

  it("answers reads under a watched prefix from its blocking query's answer, without a request; others are read", async () => {
    const prefix = `${root}/copied`;
    await kv.kv.set(`${top}/copied/a`, '1');
    await kv.kv.set(`${top}/copied/b`, '2');
    const watch = await client.watch(prefix);
    const plainReads = proxy.reads.length;
    expect(Object.fromEntries(await client.getValues([prefix]))).to.deep.equal({
      [`${prefix}/a`]: '1',
      [`${prefix}/b`]: '2',
    });
    const changed = next(watch);
    await kv.kv.set(`${top}/copied/a`, 'one');
    const result = await changed;
    const deleted = next(watch, result.index);
    await kv.kv.del(`${top}/copied/b`);
    await deleted;
    expect(Object.fromEntries(await client.getValues([prefix, `${prefix}/a`]))).to.deep.equal({
      [`${prefix}/a`]: 'one',
    });
    expect(proxy.reads.length).to.equal(plainReads);
    // A key outside every watched prefix is read from the agent.
    await kv.kv.set(`${top}/outside/k`, 'v');
    expect(Object.fromEntries(await client.getValues([`${root}/outside`]))).to.deep.equal({
      [`${root}/outside/k`]: 'v',
    });
    expect(proxy.reads.slice(plainReads)).to.have.length(1);
    watch.release();
    // Released: the prefix is read from the agent again.
    expect(Object.fromEntries(await client.getValues([prefix]))).to.deep.equal({ [`${prefix}/a`]: 'one' });
    expect(proxy.reads.slice(plainReads)).to.have.length(2);
  });

  it('loses none of 200 rapid updates to one key: a follower ends on the last value, read in order', async () => {
    const prefix = `${root}/rapid`;
    const key = `${prefix}/key`;
    await kv.kv.set(key.slice(1), 'start');
    const watch = await client.watch(prefix);
    const following = follow(client, watch, key, 'v199');
    following.catch(() => undefined);
    const written = Array.from({ length: 200 }, (_, i) => `v${i}`);
    for (const value of written) await kv.kv.set(key.slice(1), value);
    const { seen, values, failures, retried } = await following;
    expect(failures).to.deep.equal([]);
    expect(retried).to.deep.equal([]);
    expect(values.at(-1)).to.equal('v199');
    expectInWriteOrder(values, ['start', ...written]);
    expect(seen.every((r) => r.changedKeys?.length === 1 && r.changedKeys[0] === key)).to.equal(true);
    watch.release();
  });

  it('keeps ONE blocking query per prefix for 50 holders, and ends it with the last release', async () => {
    const shared = `${root}/shared`;
    const other = `${root}/other`;
    const sharedPath = `/v1/kv/${top}/shared`;
    const otherPath = `/v1/kv/${top}/other`;
    await kv.kv.set(`${top}/shared/key`, 'v1');
    const fresh = await proxiedClient();
    try {
      proxy.resetPeaks();
      const holders = await Promise.all(
        Array.from({ length: 50 }, (_, i) => fresh.watch(i % 2 ? shared : other)),
      );
      const waiting = holders.map((watch) => next(watch, watch.index, []));
      await eventually(
        () => proxy.open(sharedPath) === 1 && proxy.open(otherPath) === 1,
        'both blocking queries to be open',
      );
      await kv.kv.set(`${top}/shared/key`, 'v2');
      await kv.kv.set(`${top}/other/key`, 'new');
      const results = await Promise.all(waiting);
      results.forEach((result, i) =>
        expect(result.changedKeys).to.deep.equal([i % 2 ? `${shared}/key` : `${other}/key`]),
      );
      expect(proxy.peakOpen(sharedPath)).to.equal(1);
      expect(proxy.peakOpen(otherPath)).to.equal(1);
      // Every holder of /shared lets go but one: the query goes on.
      const sharedHolders = holders.filter((_, i) => i % 2);
      for (const watch of sharedHolders.slice(1)) watch.release();
      await absorbed(sharedPath, `${top}/shared/key`);
      // The last one lets go: the query in flight is cancelled and no other is sent for the prefix.
      sharedHolders[0]?.release();
      await eventually(() => proxy.open(sharedPath) === 0, 'the blocking query on /shared to end');
      const sentBefore = proxy.sent(sharedPath);
      await kv.kv.set(`${top}/shared/key`, 'v3');
      await kv.kv.set(`${top}/other/key`, 'newer');
      // The loop of /other has answered and asked again since, so the client is not just slow.
      await absorbed(otherPath, `${top}/other/key`);
      expect(proxy.sent(sharedPath)).to.equal(sentBefore);
      expect(proxy.open(sharedPath)).to.equal(0);
    } finally {
      await fresh.close();
    }
  });

  it('rejects an aborted call with an AbortError and keeps the shared query for the others', async () => {
    const prefix = `${root}/app/db`;
    const watch = await client.watch(prefix);
    const ac = new AbortController();
    const aborted = next(watch, watch.index, [prefix], ac.signal);
    const other = next(watch);
    ac.abort();
    const err = await aborted.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.name).to.equal('AbortError');
    await kv.kv.set(`${top}/app/db/host`, 'after abort');
    expect((await other).changedKeys).to.deep.equal([`${root}/app/db/host`]);
    watch.release();
  });

  it('fails the watch when a blocking query fails, without retrying it; a fresh watch reads on', async () => {
    const prefix = `${root}/failing`;
    const path = `/v1/kv/${top}/failing`;
    const otherPath = `/v1/kv/${top}/app/db`;
    await kv.kv.set(`${top}/failing/key`, 'v1');
    const failing = await proxiedClient();
    try {
      const watch = await failing.watch(prefix);
      const bystander = await failing.watch(`${root}/app/db`);
      await eventually(() => proxy.open(path) === 1, 'the blocking query to be open');
      // The query in flight answers with the change; the one sent after it fails.
      proxy.failNextQuery(path);
      await kv.kv.set(`${top}/failing/key`, 'v2');
      const changed = await next(watch);
      expect(changed.changedKeys).to.deep.equal([`${root}/failing/key`]);
      const err = await next(watch, changed.index).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BackendError);
      expect((err as BackendError).backend).to.equal('consul');
      expect((err as Error).message)
        .to.contain(proxy.endpoint)
        .and.to.contain('HTTP 500');
      const sentAfterFailure = proxy.sent(path);
      // Written while the watch is down.
      await kv.kv.set(`${top}/failing/key`, 'v3');
      // The client's other loop keeps cycling; the failed one sends nothing more.
      await kv.kv.set(`${top}/app/db/host`, 'while failed');
      await absorbed(otherPath, `${top}/app/db/host`);
      expect(proxy.sent(path)).to.equal(sentAfterFailure);
      expect(proxy.open(path)).to.equal(0);
      expect(await next(watch, changed.index).catch((e: unknown) => e)).to.be.instanceOf(BackendError);
      // The holder's retry: release, arm afresh, read.
      watch.release();
      const fresh = await failing.watch(prefix);
      expect(Object.fromEntries(await failing.getValues([prefix]))).to.deep.equal({
        [`${root}/failing/key`]: 'v3',
      });
      const later = next(fresh);
      await kv.kv.set(`${top}/failing/key`, 'v4');
      expect((await later).changedKeys).to.deep.equal([`${root}/failing/key`]);
      bystander.release();
    } finally {
      await failing.close();
    }
  });

  it('on close, rejects waiting callers with a BackendError and ends its blocking query', async () => {
    const prefix = `${root}/closing`;
    const path = `/v1/kv/${top}/closing`;
    const closing = await proxiedClient();
    const watch = await closing.watch(prefix);
    const waiting = next(watch);
    await eventually(() => proxy.open(path) === 1, 'the blocking query to be open');
    await closing.close();
    const err = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(BackendError);
    await eventually(() => proxy.open(path) === 0, 'the blocking query to end');
    expect(await closing.watch(prefix).catch((e: unknown) => e)).to.be.instanceOf(BackendError);
  });

  describe('when the agent restarts (dev mode: its data is gone) while a key changes', () => {
    it('tells the follower to re-read everything, and it ends on the value written last', async function () {
      this.timeout(120_000);
      const prefix = `${root}/restart`;
      const key = `${prefix}/key`;
      await kv.kv.set(key.slice(1), 'before');
      const watch = await client.watch(prefix);
      const following = follow(client, watch, key, 'final');
      following.catch(() => undefined);
      const writer = keepWriting(async (value) => {
        if (!(await kv.kv.set(key.slice(1), value))) throw new Error('not written');
      });
      try {
        await eventually(() => writer.written.length > 0, 'a write before the restart');
        await restartStore('consul', 1);
        const upAgain = writer.written.length;
        await eventually(() => writer.written.length > upAgain, 'a write after the restart', 60_000);
      } finally {
        await writer.stop();
      }
      await eventually(
        () =>
          kv.kv.set(key.slice(1), 'final').then(
            (ok) => ok === true,
            () => false,
          ),
        'the agent to take writes again',
        60_000,
      );
      const followed = await following;
      const { seen, values, failures, retried } = followed;
      let { watch: current, index } = followed;
      // The follower is told to re-read everything one way or another: an answer without changedKeys (the
      // index went back), or a failed watch (the outage caught its query), after which it armed afresh and
      // read. Or the outage caught it reading: its reads failed until the new agent answered, and if the
      // value written last was already there it had no reason to wait on the watch again. Which of these
      // happens depends on where the follower was when the agent went away; each one re-reads.
      const toldToReread =
        seen.some((result) => result.changedKeys === undefined) || failures.length > 0 || retried.length > 0;
      expect(toldToReread, 'the follower was told to re-read everything').to.equal(true);
      expect(retried.every((err) => err.backend === 'consul')).to.equal(true);
      expect(failures.every((err) => err.backend === 'consul')).to.equal(true);
      expect(values.at(-1)).to.equal('final');
      expectInWriteOrder(values, ['before', ...writer.written, 'final']);
      // When only its reads met the outage, the follower still holds the watch armed before it, which the
      // outage ended: it finds out on its next wait, and re-arms, as any holder does.
      const watchedThrough = failures.length > 0 || seen.some((result) => result.changedKeys === undefined);
      if (!watchedThrough) {
        current.release();
        current = await client.watch(prefix);
        index = current.index;
      }
      // Waiting on the new agent's index, not the old one: a later change is reported as such.
      const waiting = next(current, index, [key]);
      await kv.kv.set(key.slice(1), 'after');
      expect((await waiting).changedKeys).to.deep.equal([key]);
      current.release();
    });
  });
});
