import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { createClient, type EtcdClientHooks, type EtcdStoreClient } from '../../src/backends/etcd.js';
import type { BackendOptions, PrefixWatch, WatchResult } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import { restartStore, useStore } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { recordingLogger } from '../support/loggers.js';
import { eventually, never } from '../support/async.js';
import { tcpProxy } from '../support/net.js';

const options = (over: Partial<BackendOptions>): BackendOptions =>
  backendOptions({ backend: 'etcd', connectTimeoutMs: 3000, ...over });

describe('etcd watch (real etcd)', function () {
  this.timeout(60_000);
  let endpoint: string;
  let admin: Etcd3;
  const opened: EtcdStoreClient[] = [];
  const P = `/confd-ts-watch-${randomBytes(4).toString('hex')}`;

  async function open(hooks: EtcdClientHooks = {}, logger = recordingLogger()): Promise<EtcdStoreClient> {
    const client = await createClient(options({ nodes: [endpoint] }), logger, hooks);
    opened.push(client);
    return client;
  }

  async function put(key: string, value: string): Promise<number> {
    return Number((await admin.put(key).value(value)).header.revision);
  }

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`http://${endpoint}/metrics`)).text();
    const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
    if (!match) throw new Error(`etcd /metrics has no ${name}`);
    return Number(match[1]);
  }

  /** The next change after `index` (default: the index it was armed at) concerning `keys`. */
  function next(
    watch: PrefixWatch,
    keys: readonly string[] = [],
    index = watch.index,
    signal = never(),
  ): Promise<WatchResult> {
    return watch.next(index, keys, { signal });
  }

  /** Waits until etcd holds exactly `watchers` watches (and `streams` streams, when given). */
  async function watchersBecome(watchers: number, streams?: number): Promise<void> {
    await eventually(
      async () =>
        (await metric('etcd_debugging_mvcc_watcher_total')) === watchers &&
        (streams === undefined || (await metric('etcd_debugging_mvcc_watch_stream_total')) === streams),
      `etcd to hold ${watchers} watches${streams === undefined ? '' : ` on ${streams} streams`}`,
    );
  }

  let baseline: { watchers: number; streams: number };

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('etcd'));
    admin = new Etcd3({ hosts: `http://${endpoint}` });
    baseline = {
      watchers: await metric('etcd_debugging_mvcc_watcher_total'),
      streams: await metric('etcd_debugging_mvcc_watch_stream_total'),
    };
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });

  after(async () => {
    await admin?.delete().prefix(P);
    admin?.close();
  });

  it('arms with the current revision and reports an update with its revision and key', async () => {
    const key = `${P}/u/app/db`;
    await put(key, 'v1');
    const client = await open();
    const before = Number((await admin.get(key).exec()).header.revision);
    const watch = await client.watch(`${P}/u`);
    expect(watch.index).to.equal(before);
    expect(watch.prefix).to.equal(`${P}/u`);
    const waiting = next(watch, [`${P}/u/app`]);
    const revision = await put(key, 'v2');
    expect(await waiting).to.deep.equal({ index: revision, changedKeys: [key] });
    expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({ [key]: 'v2' });
  });

  it('keeps what changed between two calls: nothing is lost while the caller is busy', async () => {
    const client = await open();
    const watch = await client.watch(`${P}/gap`);
    let index = watch.index;
    await put(`${P}/gap/a`, '1');
    const last = await put(`${P}/gap/b`, '2');
    // Both changes were made before this call; they may come in one answer or two, never get lost.
    const seen = new Set<string>();
    while (index < last) {
      const result = await next(watch, [], index);
      for (const key of result.changedKeys ?? []) seen.add(key);
      index = result.index;
    }
    expect(index).to.equal(last);
    expect([...seen]).to.have.members([`${P}/gap/a`, `${P}/gap/b`]);
  });

  it('reports a key created after arming and a deleted key', async () => {
    const client = await open();
    await put(`${P}/cd/old`, 'x');
    const watch = await client.watch(`${P}/cd`);
    const created = await put(`${P}/cd/new/leaf`, 'born');
    let result = await next(watch, [`${P}/cd`]);
    expect(result).to.deep.equal({ index: created, changedKeys: [`${P}/cd/new/leaf`] });
    const deleted = Number((await admin.delete().key(`${P}/cd/old`).exec()).header.revision);
    result = await next(watch, [`${P}/cd`], result.index);
    expect(result).to.deep.equal({ index: deleted, changedKeys: [`${P}/cd/old`] });
    expect(Object.fromEntries(await client.getValues([`${P}/cd`]))).to.deep.equal({
      [`${P}/cd/new/leaf`]: 'born',
    });
  });

  it('respects the path boundary: a watch on /app/db never reports /app/dbx or /app/db-x', async () => {
    const client = await open();
    const root = `${P}/pb/app/db`;
    const watch = await client.watch(root);
    const waiting = next(watch, [root]);
    await put(`${P}/pb/app/dbx`, 'sibling');
    await put(`${P}/pb/app/db-x`, 'sibling');
    await put(`${P}/pb/app/db.x`, 'sibling');
    const own = await put(root, 'itself');
    expect(await waiting).to.deep.equal({ index: own, changedKeys: [root] });
  });

  it("wakes a holder only for its own keys, and its index moves past other holders' changes", async () => {
    const client = await open();
    const mine = await client.watch(`${P}/own`);
    const anyone = await client.watch(`${P}/own`);
    expect(anyone.index).to.equal(mine.index);
    const waitingMine = next(mine, [`${P}/own/mine`]);
    const other = await put(`${P}/own/other`, 'x');
    expect(await next(anyone)).to.deep.equal({ index: other, changedKeys: [`${P}/own/other`] });
    const revision = await put(`${P}/own/mine/x`, 'y');
    expect(await waitingMine).to.deep.equal({ index: revision, changedKeys: [`${P}/own/mine/x`] });
  });

  it('loses none of 200 rapid updates to one key: the index reaches the last revision, the last value is read', async () => {
    const client = await open();
    const key = `${P}/rapid/key`;
    const watch = await client.watch(`${P}/rapid`);
    let index = watch.index;
    let lastRevision = 0;
    let written = false;
    const writer = (async () => {
      for (let i = 0; i < 200; i++) lastRevision = await put(key, `value ${i}`);
      written = true;
    })();
    const reported = new Set<string>();
    while (!written || index < lastRevision) {
      // While writing, stop waiting when the writer is done (the wait may be past its last change).
      const controller = new AbortController();
      const call = next(
        watch,
        [key],
        index,
        AbortSignal.any([controller.signal, AbortSignal.timeout(20_000)]),
      );
      const result = written ? await call : await Promise.race([call, writer.then(() => undefined)]);
      if (!result) {
        controller.abort();
        await call.catch(() => undefined);
        continue;
      }
      expect(result.index).to.be.greaterThan(index);
      for (const k of result.changedKeys ?? ['(resync)']) reported.add(k);
      index = result.index;
    }
    await writer;
    expect(index).to.equal(lastRevision);
    expect([...reported]).to.deep.equal([key]);
    expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({ [key]: 'value 199' });
  });

  it('tells a holder with an index from before the watch was armed to re-read everything', async () => {
    const key = `${P}/stale/key`;
    const first = await put(key, 'a');
    await put(key, 'b');
    const client = await open();
    const watch = await client.watch(`${P}/stale`);
    // What came before the arm is unknown to the watch: the index is not replayed from, it asks for a full read.
    expect(await next(watch, [key], first - 1)).to.deep.equal({ index: watch.index });
    const revision = await put(key, 'c');
    expect(await next(watch, [key])).to.deep.equal({ index: revision, changedKeys: [key] });
  });

  it('signals a full resync (changedKeys undefined) when its revision was compacted while it was cut off', async function () {
    this.timeout(120_000);
    const root = `${P}/compacted`;
    const key = `${root}/key`;
    await put(key, 'a');
    const proxy = await tcpProxy(endpoint);
    try {
      const logger = recordingLogger();
      const client = await createClient(options({ nodes: [proxy.endpoint] }), logger, {
        disconnectGraceMs: 90_000,
      });
      opened.push(client);
      const watch = await client.watch(root);
      proxy.partition();
      await put(key, 'b');
      const latest = await put(key, 'c');
      await admin.kv.compact({ revision: String(latest) });
      proxy.heal();
      // The watch is re-created at the revision after the last one received, which is gone now.
      const result = await next(watch, [key]);
      expect(result.changedKeys).to.equal(undefined);
      expect(result.index).to.be.at.least(latest);
      expect(logger.messages('warn').some((l) => l.includes('cancelled by the server'))).to.equal(true);
      expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({ [key]: 'c' });
      // The watch goes on from the new revision and reports keys exactly again.
      const revision = await put(key, 'd');
      expect(await next(watch, [key], result.index)).to.deep.equal({ index: revision, changedKeys: [key] });
    } finally {
      await proxy.shut();
    }
  });

  it('signals a resync when its start revision is compacted between reading the revision and watching', async () => {
    const key = `${P}/race/key`;
    await put(key, 'a');
    let compactedAt = 0;
    const client = await open({
      beforeWatch: async () => {
        if (compactedAt > 0) return;
        await put(key, 'b');
        compactedAt = await put(key, 'c');
        await admin.kv.compact({ revision: String(compactedAt) });
      },
    });
    const watch = await client.watch(`${P}/race`);
    expect(compactedAt).to.be.greaterThan(watch.index);
    const result = await next(watch, [key]);
    expect(result.changedKeys).to.equal(undefined);
    expect(result.index).to.be.at.least(compactedAt);
    expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({ [key]: 'c' });
  });

  it('keeps ONE etcd watch (and one stream) for 50 holders of a prefix, and ends it with the last release', async () => {
    await watchersBecome(baseline.watchers, baseline.streams);
    const client = await open();
    const root = `${P}/fifty`;
    const keys = Array.from({ length: 50 }, (_, i) => `${root}/k${i}`);
    const holders = await Promise.all(keys.map(() => client.watch(root)));
    const waiting = holders.map((watch) => next(watch, [root]));
    expect(await metric('etcd_debugging_mvcc_watcher_total')).to.equal(baseline.watchers + 1);
    expect(await metric('etcd_debugging_mvcc_watch_stream_total')).to.equal(baseline.streams + 1);
    const revision = await put(`${root}/k7`, 'seven');
    for (const result of await Promise.all(waiting)) {
      expect(result).to.deep.equal({ index: revision, changedKeys: [`${root}/k7`] });
    }
    // A second prefix is a second watch, on a Watch stream of its own (both on the one connection).
    const another = await client.watch(`${P}/another`);
    expect(await metric('etcd_debugging_mvcc_watcher_total')).to.equal(baseline.watchers + 2);
    expect(await metric('etcd_debugging_mvcc_watch_stream_total')).to.equal(baseline.streams + 2);
    // Every holder but one lets go: the watch stays, and still reports.
    for (const watch of holders.slice(1)) watch.release();
    const last = holders[0] as PrefixWatch;
    const stillWaiting = next(last, [root], revision);
    const later = await put(`${root}/k8`, 'eight');
    expect(await stillWaiting).to.deep.equal({ index: later, changedKeys: [`${root}/k8`] });
    expect(await metric('etcd_debugging_mvcc_watcher_total')).to.equal(baseline.watchers + 2);
    last.release();
    await watchersBecome(baseline.watchers + 1);
    another.release();
    await watchersBecome(baseline.watchers, baseline.streams);
    // Armed again, the prefix gets a watch of its own again.
    const again = await client.watch(root);
    await watchersBecome(baseline.watchers + 1);
    const rewritten = await put(`${root}/k9`, 'nine');
    expect(await next(again, [root])).to.deep.equal({ index: rewritten, changedKeys: [`${root}/k9`] });
    await client.close();
    await watchersBecome(baseline.watchers, baseline.streams);
  });

  it('rejects an aborted caller with an AbortError and keeps the shared watch for the others', async () => {
    const client = await open();
    const root = `${P}/abort`;
    const watch = await client.watch(root);
    const controller = new AbortController();
    const aborted = next(watch, [], watch.index, controller.signal);
    const staying = next(watch);
    controller.abort();
    const err = await aborted.catch((e: unknown) => e);
    expect((err as Error).name).to.equal('AbortError');
    const revision = await put(`${root}/k`, 'v');
    expect(await staying).to.deep.equal({ index: revision, changedKeys: [`${root}/k`] });
  });

  it('rejects pending calls with a BackendError on close, and later arms too', async () => {
    const client = await open();
    const watch = await client.watch(`${P}/closing`);
    const waiting = next(watch).catch((e: unknown) => e);
    await client.close();
    expect(await waiting).to.be.instanceOf(BackendError);
    expect(await client.watch(`${P}/closing`).catch((e: unknown) => e)).to.be.instanceOf(BackendError);
  });

  it('rejects arming with a BackendError naming the endpoint when etcd can no longer be reached', async () => {
    const proxy = await tcpProxy(endpoint);
    const client = await createClient(
      options({ nodes: [proxy.endpoint], connectTimeoutMs: 1500 }),
      recordingLogger(),
    );
    opened.push(client);
    await proxy.shut();
    const err = await client.watch(`${P}/dead`).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BackendError);
    expect((err as BackendError).endpoints).to.deep.equal([`http://${proxy.endpoint}`]);
    expect((err as Error).message).to.contain(proxy.endpoint);
  });

  it('resumes after a connection cut in the middle of a replay from the last revision received, not the newest', async function () {
    // etcd replays history in batches of 1000 revisions, each carrying the newest revision in its header;
    // resuming from that header would skip the rest of the replay.
    this.timeout(120_000);
    const root = `${P}/cut`;
    const key = `${root}/key`;
    await put(key, 'first');
    const proxy = await tcpProxy(endpoint);
    try {
      const client = await createClient(options({ nodes: [proxy.endpoint] }), recordingLogger(), {
        disconnectGraceMs: 90_000,
      });
      opened.push(client);
      const watch = await client.watch(root);
      // Cut off while 1500 changes are made: once back, the watch is 1500 revisions behind, and replays.
      proxy.partition();
      let last = watch.index;
      for (let i = 0; i < 1500; i += 50) {
        const revisions = await Promise.all(Array.from({ length: 50 }, (_, j) => put(key, `value ${i + j}`)));
        last = Math.max(last, ...revisions);
      }
      proxy.heal();
      const batch = await next(watch, [key]);
      expect(batch.changedKeys).to.deep.equal([key]);
      expect(batch.index).to.be.lessThan(last);
      proxy.cut();
      const rest = await next(watch, [key], batch.index, AbortSignal.timeout(30_000));
      expect(rest).to.deep.equal({ index: last, changedKeys: [key] });
    } finally {
      await proxy.shut();
    }
  });

  describe('when etcd is killed and restarted (data kept)', () => {
    it('resumes the watch from the last revision it saw and reports the change made after the restart', async function () {
      this.timeout(120_000);
      const root = `${P}/resume`;
      const key = `${root}/key`;
      const client = await open({ disconnectGraceMs: 90_000 });
      const watch = await client.watch(root);
      const before = await put(key, 'before');
      const seen = await next(watch, [key]);
      expect(seen).to.deep.equal({ index: before, changedKeys: [key] });
      const waiting = next(watch, [key], seen.index);
      await restartStore('etcd', 1);
      const writer = new Etcd3({ hosts: `http://${endpoint}` });
      let after: number;
      try {
        after = Number((await writer.put(key).value('after')).header.revision);
      } finally {
        writer.close();
      }
      expect(after).to.be.greaterThan(before);
      expect(await waiting).to.deep.equal({ index: after, changedKeys: [key] });
      expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({ [key]: 'after' });
    });

    it('fails the watch with a BackendError when the outage outlasts the grace; a fresh watch sees what changed meanwhile', async function () {
      this.timeout(120_000);
      const root = `${P}/outage`;
      const key = `${root}/key`;
      await put(key, 'before the outage');
      const client = await open({ disconnectGraceMs: 300 });
      const watch = await client.watch(root);
      const waiting = next(watch, [key]).catch((e: unknown) => e);
      const restarted = restartStore('etcd', 2);
      const err = await waiting;
      expect(err).to.be.instanceOf(BackendError);
      expect((err as BackendError).backend).to.equal('etcd');
      expect((err as Error).message).to.contain(endpoint);
      await restarted;
      // Written while the client has no watch: the fresh watch must not need another change to see it.
      const writer = new Etcd3({ hosts: `http://${endpoint}` });
      try {
        await writer.put(key).value('changed while the watch was down');
      } finally {
        writer.close();
      }
      // The failed watch stays failed, even with etcd back.
      expect(await next(watch, [key]).catch((e: unknown) => e)).to.be.instanceOf(BackendError);
      // What a processor does after an error: release, arm again (retrying while etcd comes back), read.
      watch.release();
      let fresh: PrefixWatch | undefined;
      await eventually(async () => {
        fresh = await client.watch(root).catch(() => undefined);
        return fresh !== undefined;
      }, 'a fresh watch to arm');
      expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({
        [key]: 'changed while the watch was down',
      });
      const revision = await put(key, 'live again');
      expect(await next(fresh!, [key])).to.deep.equal({ index: revision, changedKeys: [key] });
    });
  });
});
