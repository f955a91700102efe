import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import Consul from 'consul';
import { createClient, type ConsulClient, type ConsulTuning } from '../../src/backends/consul.js';
import type { BackendOptions } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import { restartStore, useStore } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { RecordingLogger } from '../support/loggers.js';
import { hostPort } from '../support/net.js';
import { eventually } from '../support/async.js';
import { follow } from './support/follow.js';

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
  readonly queries: BlockingQuery[] = [];

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

  resetPeaks(): void {
    this.peak.clear();
    for (const [path, count] of this.inFlight) this.peak.set(path, count);
  }

  private forward(req: IncomingMessage, res: ServerResponse, target: string): void {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const index = url.searchParams.get('index');
    if (index !== null) {
      const path = decodeURIComponent(url.pathname);
      this.queries.push({ path, index: Number(index) });
      const open = this.open(path) + 1;
      this.inFlight.set(path, open);
      this.peak.set(path, Math.max(open, this.peakOpen(path)));
      res.once('close', () => this.inFlight.set(path, this.open(path) - 1));
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
  const never = new AbortController().signal;

  /** A client through the counting proxy. */
  function proxiedClient(tuning: ConsulTuning = {}): Promise<ConsulClient> {
    return createClient(storeOptions([proxy.endpoint]), logger, tuning);
  }

  /** The X-Consul-Index after a write: the index a blocking query must pass to see it. */
  async function modifyIndex(key: string): Promise<number> {
    const entry = (await kv.kv.get(key)) as { ModifyIndex: number } | undefined;
    if (!entry) throw new Error(`${key} does not exist`);
    return entry.ModifyIndex;
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

  it('answers waitIndex 0 at once, then reports an update with exactly the changed key', async () => {
    const prefix = `${root}/app/db`;
    const armed = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    expect(armed.index).to.be.greaterThan(0);
    const waiting = client.watchPrefix(prefix, [prefix], { waitIndex: armed.index, signal: never });
    await kv.kv.set(`${top}/app/db/host`, 'db2.local');
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
    await kv.kv.set(`${top}/app/db/port`, '6543');
    await kv.kv.set(`${top}/app/db/user`, 'admin');
    const changed = new Set<string>();
    let at = index;
    while (changed.size < 2) {
      const result = await client.watchPrefix(prefix, [prefix], { waitIndex: at, signal: never });
      for (const key of result.changedKeys ?? []) changed.add(key);
      at = result.index;
    }
    expect([...changed].sort()).to.deep.equal([`${root}/app/db/port`, `${root}/app/db/user`]);
  });

  it('wakes nobody for writes past the path boundary, same-value writes or folder entries', async () => {
    const prefix = `${root}/app/db`;
    const path = `/v1/kv/${top}/app/db`;
    /** Waits until the shared query has taken in the write of `key` and waits past it. */
    const absorbed = async (key: string): Promise<void> => {
      const written = await modifyIndex(key);
      await eventually(
        () => proxy.queries.some((q) => q.path === path && q.index >= written) && proxy.open(path) === 1,
        `a blocking query past index ${written}`,
      );
    };
    await kv.kv.set(`${top}/app/db/port`, '7000');
    await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    await absorbed(`${top}/app/db/port`);
    const { index } = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    const waiting = track(client.watchPrefix(prefix, [prefix], { waitIndex: index, signal: never }));
    for (const [key, value] of [
      [`${top}/app/dbx/host`, 'elsewhere'],
      [`${top}/app/db/port`, '7000'],
      [`${top}/app/db/folder/`, ''],
    ] as const) {
      await kv.kv.set(key, value);
      await absorbed(key);
    }
    expect(waiting.settled()).to.equal(false);
    await kv.kv.set(`${top}/app/db/host`, 'db3.local');
    expect((await waiting.promise).changedKeys).to.deep.equal([`${root}/app/db/host`]);
  });

  it('repeats a blocking query whose wait ran out without waking anybody', async () => {
    const prefix = `${root}/quiet`;
    const path = `/v1/kv/${top}/quiet`;
    await kv.kv.set(`${top}/quiet/key`, 'v1');
    const shortWait = await proxiedClient({ watchWaitS: 1 });
    try {
      const { index } = await shortWait.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
      const waiting = track(shortWait.watchPrefix(prefix, [prefix], { waitIndex: index, signal: never }));
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
    const { index } = await client.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    expect(await client.getValues([prefix])).to.deep.equal({});
    const created = client.watchPrefix(prefix, [prefix], { waitIndex: index, signal: never });
    await kv.kv.set(key.slice(1), 'created');
    const afterCreate = await created;
    expect(afterCreate.changedKeys).to.deep.equal([key]);
    expect(await client.getValues([prefix])).to.deep.equal({ [key]: 'created' });
    const deleted = client.watchPrefix(prefix, [prefix], { waitIndex: afterCreate.index, signal: never });
    await kv.kv.del(key.slice(1));
    expect((await deleted).changedKeys).to.deep.equal([key]);
    expect(await client.getValues([prefix])).to.deep.equal({});
  });

  it('loses none of 200 rapid updates to one key: a re-arming caller ends on the last value', async () => {
    const prefix = `${root}/rapid`;
    const key = `${prefix}/key`;
    await kv.kv.set(key.slice(1), 'start');
    const armed = await client.watchPrefix(prefix, [key], { waitIndex: 0, signal: never });
    const following = follow(client, prefix, key, 'v199', armed.index);
    following.catch(() => undefined);
    for (let i = 0; i < 200; i += 1) await kv.kv.set(key.slice(1), `v${i}`);
    const { seen, failures } = await following;
    expect(failures).to.deep.equal([]);
    expect(seen.length).to.be.greaterThan(0);
    expect(seen.every((r) => r.changedKeys?.length === 1 && r.changedKeys[0] === key)).to.equal(true);
    expect(await client.getValues([key])).to.deep.equal({ [key]: 'v199' });
  });

  it('keeps ONE blocking query per prefix for 50 callers', async () => {
    const shared = `${root}/shared`;
    const other = `${root}/other`;
    await kv.kv.set(`${top}/shared/key`, 'v1');
    const fresh = await proxiedClient();
    try {
      proxy.resetPeaks();
      const armed = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          fresh.watchPrefix(i % 2 ? shared : other, [], {
            waitIndex: 0,
            signal: new AbortController().signal,
          }),
        ),
      );
      const waiting = armed.map(({ index }, i) =>
        fresh.watchPrefix(i % 2 ? shared : other, [], {
          waitIndex: index,
          signal: new AbortController().signal,
        }),
      );
      await eventually(
        () => proxy.open(`/v1/kv/${top}/shared`) === 1 && proxy.open(`/v1/kv/${top}/other`) === 1,
        'both blocking queries to be open',
      );
      await kv.kv.set(`${top}/shared/key`, 'v2');
      await kv.kv.set(`${top}/other/key`, 'new');
      const results = await Promise.all(waiting);
      results.forEach((result, i) =>
        expect(result.changedKeys).to.deep.equal([i % 2 ? `${shared}/key` : `${other}/key`]),
      );
      expect(proxy.peakOpen(`/v1/kv/${top}/shared`)).to.equal(1);
      expect(proxy.peakOpen(`/v1/kv/${top}/other`)).to.equal(1);
    } finally {
      await fresh.close();
    }
  });

  it('rejects an aborted call with an AbortError and keeps the shared query for the others', async () => {
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
    await kv.kv.set(`${top}/app/db/host`, 'after abort');
    expect((await other).changedKeys).to.deep.equal([`${root}/app/db/host`]);
  });

  it('on close, rejects waiting callers with a BackendError and ends its blocking query', async () => {
    const prefix = `${root}/closing`;
    const path = `/v1/kv/${top}/closing`;
    const closing = await proxiedClient();
    const { index } = await closing.watchPrefix(prefix, [prefix], { waitIndex: 0, signal: never });
    const waiting = closing.watchPrefix(prefix, [prefix], { waitIndex: index, signal: never });
    await eventually(() => proxy.open(path) === 1, 'the blocking query to be open');
    await closing.close();
    const err = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(BackendError);
    await eventually(() => proxy.open(path) === 0, 'the blocking query to end');
  });

  describe('when the agent restarts (dev mode: its data is gone) while a key changes', () => {
    it('resets its index, reports "anything may have changed", and ends on the value written last', async function () {
      this.timeout(120_000);
      const prefix = `${root}/restart`;
      const key = `${prefix}/key`;
      await kv.kv.set(key.slice(1), 'before');
      const armed = await client.watchPrefix(prefix, [key], { waitIndex: 0, signal: never });
      const following = follow(client, prefix, key, 'final', armed.index);
      following.catch(() => undefined);
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i += 1) {
          await kv.kv.set(key.slice(1), `w${i}`).catch(() => sleep(50));
        }
      })();
      try {
        await sleep(200);
        await restartStore('consul', 1);
        await sleep(200);
      } finally {
        writing = false;
        await writer;
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
      const { seen, failures } = await following;
      // The follower is told to re-read everything either way: an answer without changedKeys, or (when the
      // outage caught it between two answers) a BackendError, after which the processor resyncs.
      const toldToReread = seen.some((result) => result.changedKeys === undefined) || failures.length > 0;
      expect(toldToReread, 'the follower was told to re-read everything').to.equal(true);
      expect(await client.getValues([key])).to.deep.equal({ [key]: 'final' });
      // Waiting on the new agent's index, not the old one: a later change is reported as such.
      const { index } = await client.watchPrefix(prefix, [key], { waitIndex: 0, signal: never });
      const waiting = client.watchPrefix(prefix, [key], { waitIndex: index, signal: never });
      await kv.kv.set(key.slice(1), 'after');
      expect((await waiting).changedKeys).to.deep.equal([key]);
    });
  });
});
