import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { createClient, type EtcdClientHooks, type EtcdStoreClient } from '../../src/backends/etcd.js';
import type { BackendOptions, WatchResult } from '../../src/backends/store-client.js';
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
    const armed = await client.watchPrefix(`${P}/u`, [`${P}/u/app`], { waitIndex: 0, signal: never() });
    expect(armed).to.deep.equal({ index: before });
    const waiting = client.watchPrefix(`${P}/u`, [`${P}/u/app`], { waitIndex: armed.index, signal: never() });
    const revision = await put(key, 'v2');
    expect(await waiting).to.deep.equal({ index: revision, changedKeys: [key] });
    expect(await client.getValues([key])).to.deep.equal({ [key]: 'v2' });
  });

  it('keeps what changed between two calls: nothing is lost while the caller is busy', async () => {
    const client = await open();
    let { index } = await client.watchPrefix(`${P}/gap`, [], { waitIndex: 0, signal: never() });
    await put(`${P}/gap/a`, '1');
    const last = await put(`${P}/gap/b`, '2');
    // Both changes were made before this call; they may come in one answer or two, never get lost.
    const seen = new Set<string>();
    while (index < last) {
      const result = await client.watchPrefix(`${P}/gap`, [], { waitIndex: index, signal: never() });
      for (const key of result.changedKeys ?? []) seen.add(key);
      index = result.index;
    }
    expect(index).to.equal(last);
    expect([...seen]).to.have.members([`${P}/gap/a`, `${P}/gap/b`]);
  });

  it('reports a key created after arming and a deleted key', async () => {
    const client = await open();
    await put(`${P}/cd/old`, 'x');
    let { index } = await client.watchPrefix(`${P}/cd`, [`${P}/cd`], { waitIndex: 0, signal: never() });
    const created = await put(`${P}/cd/new/leaf`, 'born');
    let result = await client.watchPrefix(`${P}/cd`, [`${P}/cd`], { waitIndex: index, signal: never() });
    expect(result).to.deep.equal({ index: created, changedKeys: [`${P}/cd/new/leaf`] });
    index = result.index;
    const deleted = Number((await admin.delete().key(`${P}/cd/old`).exec()).header.revision);
    result = await client.watchPrefix(`${P}/cd`, [`${P}/cd`], { waitIndex: index, signal: never() });
    expect(result).to.deep.equal({ index: deleted, changedKeys: [`${P}/cd/old`] });
    expect(await client.getValues([`${P}/cd`])).to.deep.equal({ [`${P}/cd/new/leaf`]: 'born' });
  });

  it('respects the path boundary: a watch on /app/db never reports /app/dbx or /app/db-x', async () => {
    const client = await open();
    const root = `${P}/pb/app/db`;
    const { index } = await client.watchPrefix(root, [root], { waitIndex: 0, signal: never() });
    const waiting = client.watchPrefix(root, [root], { waitIndex: index, signal: never() });
    await put(`${P}/pb/app/dbx`, 'sibling');
    await put(`${P}/pb/app/db-x`, 'sibling');
    await put(`${P}/pb/app/db.x`, 'sibling');
    const own = await put(root, 'itself');
    const result = await waiting;
    expect(result).to.deep.equal({ index: own, changedKeys: [root] });
  });

  it("wakes a caller only for its own keys, and its index moves past other callers' changes", async () => {
    const client = await open();
    const { index } = await client.watchPrefix(`${P}/own`, [], { waitIndex: 0, signal: never() });
    const mine = client.watchPrefix(`${P}/own`, [`${P}/own/mine`], { waitIndex: index, signal: never() });
    const other = await put(`${P}/own/other`, 'x');
    const anyone = await client.watchPrefix(`${P}/own`, [], { waitIndex: index, signal: never() });
    expect(anyone).to.deep.equal({ index: other, changedKeys: [`${P}/own/other`] });
    const revision = await put(`${P}/own/mine/x`, 'y');
    expect(await mine).to.deep.equal({ index: revision, changedKeys: [`${P}/own/mine/x`] });
  });

  it('loses none of 200 rapid updates to one key: the index reaches the last revision, the last value is read', async () => {
    const client = await open();
    const key = `${P}/rapid/key`;
    let { index } = await client.watchPrefix(`${P}/rapid`, [key], { waitIndex: 0, signal: never() });
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
      const call = client.watchPrefix(`${P}/rapid`, [key], {
        waitIndex: index,
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(20_000)]),
      });
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
    expect(await client.getValues([key])).to.deep.equal({ [key]: 'value 199' });
  });

  it('replays from waitIndex + 1 for a prefix nobody armed (a caller coming back after a failure)', async () => {
    const key = `${P}/replay/key`;
    const first = await put(key, 'a');
    const second = await put(key, 'b');
    const client = await open();
    const result = await client.watchPrefix(`${P}/replay`, [key], { waitIndex: first - 1, signal: never() });
    expect(result.changedKeys).to.deep.equal([key]);
    expect(result.index).to.be.at.least(first).and.at.most(second);
  });

  it('signals a full resync (changedKeys undefined) when the revision to replay from was compacted', async () => {
    const key = `${P}/compacted/key`;
    const first = await put(key, 'a');
    const latest = await put(key, 'b');
    await admin.kv.compact({ revision: String(latest) });
    const logger = recordingLogger();
    const client = await open({}, logger);
    const result = await client.watchPrefix(`${P}/compacted`, [key], {
      waitIndex: first - 1,
      signal: never(),
    });
    expect(result.changedKeys).to.equal(undefined);
    expect(result.index).to.be.at.least(latest);
    expect(logger.messages('warn').some((l) => l.includes('cancelled by the server'))).to.equal(true);
    // The watch goes on from the new revision and reports keys exactly again.
    const next = await put(key, 'c');
    expect(
      await client.watchPrefix(`${P}/compacted`, [key], { waitIndex: result.index, signal: never() }),
    ).to.deep.equal({ index: next, changedKeys: [key] });
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
    const armed = await client.watchPrefix(`${P}/race`, [key], { waitIndex: 0, signal: never() });
    expect(compactedAt).to.be.greaterThan(armed.index);
    const result = await client.watchPrefix(`${P}/race`, [key], { waitIndex: armed.index, signal: never() });
    expect(result.changedKeys).to.equal(undefined);
    expect(result.index).to.be.at.least(compactedAt);
    expect(await client.getValues([key])).to.deep.equal({ [key]: 'c' });
  });

  it('keeps ONE etcd watch (and one stream) for 50 callers on a prefix, and releases it on close', async () => {
    await eventually(
      async () =>
        (await metric('etcd_debugging_mvcc_watcher_total')) === baseline.watchers &&
        (await metric('etcd_debugging_mvcc_watch_stream_total')) === baseline.streams,
      'watches of earlier tests to be released',
    );
    const client = await open();
    const root = `${P}/fifty`;
    const keys = Array.from({ length: 50 }, (_, i) => `${root}/k${i}`);
    const armed = await Promise.all(
      keys.map((k) => client.watchPrefix(root, [k], { waitIndex: 0, signal: never() })),
    );
    const index = Math.min(...armed.map((a) => a.index));
    const waiting = keys.map(() => client.watchPrefix(root, [root], { waitIndex: index, signal: never() }));
    expect(await metric('etcd_debugging_mvcc_watcher_total')).to.equal(baseline.watchers + 1);
    expect(await metric('etcd_debugging_mvcc_watch_stream_total')).to.equal(baseline.streams + 1);
    const revision = await put(`${root}/k7`, 'seven');
    for (const result of await Promise.all(waiting)) {
      expect(result).to.deep.equal({ index: revision, changedKeys: [`${root}/k7`] });
    }
    // A second prefix is a second watch on the same stream.
    await client.watchPrefix(`${P}/another`, [], { waitIndex: 0, signal: never() });
    expect(await metric('etcd_debugging_mvcc_watcher_total')).to.equal(baseline.watchers + 2);
    expect(await metric('etcd_debugging_mvcc_watch_stream_total')).to.equal(baseline.streams + 1);
    await client.close();
    await eventually(
      async () => (await metric('etcd_debugging_mvcc_watcher_total')) === baseline.watchers,
      'the watches to be cancelled on close',
    );
  });

  it('rejects an aborted caller with an AbortError and keeps the shared watch for the others', async () => {
    const client = await open();
    const root = `${P}/abort`;
    const { index } = await client.watchPrefix(root, [], { waitIndex: 0, signal: never() });
    const controller = new AbortController();
    const aborted = client.watchPrefix(root, [], { waitIndex: index, signal: controller.signal });
    const staying = client.watchPrefix(root, [], { waitIndex: index, signal: never() });
    controller.abort();
    const err = await aborted.catch((e: unknown) => e);
    expect((err as Error).name).to.equal('AbortError');
    const revision = await put(`${root}/k`, 'v');
    expect(await staying).to.deep.equal({ index: revision, changedKeys: [`${root}/k`] });
  });

  it('rejects pending calls with a BackendError on close', async () => {
    const client = await open();
    const { index } = await client.watchPrefix(`${P}/closing`, [], { waitIndex: 0, signal: never() });
    const waiting = client
      .watchPrefix(`${P}/closing`, [], { waitIndex: index, signal: never() })
      .catch((e: unknown) => e);
    await client.close();
    expect(await waiting).to.be.instanceOf(BackendError);
  });

  it('rejects with a BackendError naming the endpoint when etcd can no longer be reached', async () => {
    const proxy = await tcpProxy(endpoint);
    const client = await createClient(
      options({ nodes: [proxy.endpoint], connectTimeoutMs: 1500 }),
      recordingLogger(),
    );
    opened.push(client);
    await proxy.shut();
    const err = await client
      .watchPrefix(`${P}/dead`, [], { waitIndex: 0, signal: never() })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BackendError);
    expect((err as BackendError).endpoints).to.deep.equal([`http://${proxy.endpoint}`]);
    expect((err as Error).message).to.contain(proxy.endpoint);
  });

  it('resumes after a connection cut in the middle of a replay from the last revision received, not the newest', async function () {
    // etcd replays history in batches of 1000 revisions, each carrying the newest revision in its header;
    // etcd3 alone would resume from that header and skip the rest of the replay.
    this.timeout(120_000);
    const root = `${P}/cut`;
    const key = `${root}/key`;
    const first = await put(key, 'first');
    let last = first;
    for (let i = 0; i < 1500; i += 50) {
      const revisions = await Promise.all(Array.from({ length: 50 }, (_, j) => put(key, `value ${i + j}`)));
      last = Math.max(last, ...revisions);
    }
    const proxy = await tcpProxy(endpoint);
    try {
      const client = await createClient(options({ nodes: [proxy.endpoint] }), recordingLogger(), {
        disconnectGraceMs: 90_000,
      });
      opened.push(client);
      const batch = await client.watchPrefix(root, [key], { waitIndex: first, signal: never() });
      expect(batch.changedKeys).to.deep.equal([key]);
      expect(batch.index).to.be.lessThan(last);
      proxy.cut();
      const rest = await client.watchPrefix(root, [key], {
        waitIndex: batch.index,
        signal: AbortSignal.timeout(30_000),
      });
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
      let { index } = await client.watchPrefix(root, [key], { waitIndex: 0, signal: never() });
      const before = await put(key, 'before');
      const seen = await client.watchPrefix(root, [key], { waitIndex: index, signal: never() });
      expect(seen).to.deep.equal({ index: before, changedKeys: [key] });
      index = seen.index;
      const waiting = client.watchPrefix(root, [key], { waitIndex: index, signal: never() });
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
      expect(await client.getValues([key])).to.deep.equal({ [key]: 'after' });
    });

    it('rejects waiting callers with a BackendError when the outage outlasts the grace, and works again after recovery', async function () {
      this.timeout(120_000);
      const root = `${P}/outage`;
      const key = `${root}/key`;
      const client = await open({ disconnectGraceMs: 300 });
      const { index } = await client.watchPrefix(root, [key], { waitIndex: 0, signal: never() });
      const waiting = client
        .watchPrefix(root, [key], { waitIndex: index, signal: never() })
        .catch((e: unknown) => e);
      const restarted = restartStore('etcd', 2);
      const err = await waiting;
      expect(err).to.be.instanceOf(BackendError);
      expect((err as BackendError).backend).to.equal('etcd');
      expect((err as Error).message).to.contain(endpoint);
      await restarted;
      const writer = new Etcd3({ hosts: `http://${endpoint}` });
      try {
        await writer.put(key).value('changed while recovering');
      } finally {
        writer.close();
      }
      // What a processor does after an error: arm again (retrying while etcd comes back), then read.
      let rearmed: WatchResult | undefined;
      await eventually(async () => {
        rearmed = await client
          .watchPrefix(root, [key], { waitIndex: 0, signal: never() })
          .catch(() => undefined);
        return rearmed !== undefined;
      }, 'the watch to arm again');
      expect(await client.getValues([key])).to.deep.equal({ [key]: 'changed while recovering' });
      const revision = await put(key, 'live again');
      expect(
        await client.watchPrefix(root, [key], { waitIndex: rearmed!.index, signal: never() }),
      ).to.deep.equal({ index: revision, changedKeys: [key] });
    });
  });
});
