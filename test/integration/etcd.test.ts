import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { createClient, ETCD_MAX_TXN_OPS, type EtcdStoreClient } from '../../src/backends/etcd.js';
import type { BackendOptions } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import { runConfd, Workspace } from '../e2e/support/confd-process.js';
import { useStore } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { recordingLogger } from '../support/loggers.js';
import { deadEndpoint, silentEndpoint, tcpProxy } from '../support/net.js';
import { createClientInChild } from '../support/client-in-child.js';

const options = (over: Partial<BackendOptions>): BackendOptions =>
  backendOptions({ backend: 'etcd', connectTimeoutMs: 3000, ...over });

describe('etcd backend (real etcd)', function () {
  let endpoint: string;
  let admin: Etcd3;
  let client: EtcdStoreClient;
  // Every run writes under its own prefix, so runs never see each other's keys.
  const P = `/confd-ts-test-${randomBytes(4).toString('hex')}`;

  before(async function () {
    this.timeout(120_000);
    ({ endpoint } = await useStore('etcd'));
    admin = new Etcd3({ hosts: `http://${endpoint}` });
    client = await createClient(options({ nodes: [endpoint] }), recordingLogger());
  });

  after(async () => {
    await client?.close();
    await admin?.delete().prefix(P);
    admin?.close();
  });

  /** createClient's rejection; a client it wrongly creates is closed at once. */
  async function createFailure(over: Partial<BackendOptions>): Promise<unknown> {
    try {
      await (await createClient(options(over), recordingLogger())).close();
      return undefined;
    } catch (err) {
      return err;
    }
  }

  async function put(entries: Record<string, string>): Promise<void> {
    for (const [key, value] of Object.entries(entries)) await admin.put(`${P}${key}`).value(value);
  }

  it('returns a key itself and what lies under it on a path boundary, never a sibling sharing the prefix', async () => {
    await put({
      '/b/app/db': 'root',
      '/b/app/db/user': 'alice',
      '/b/app/db/pool/max': '10',
      '/b/app/dbx': 'sibling',
    });
    expect(Object.fromEntries(await client.getValues([`${P}/b/app/db`]))).to.deep.equal({
      [`${P}/b/app/db`]: 'root',
      [`${P}/b/app/db/user`]: 'alice',
      [`${P}/b/app/db/pool/max`]: '10',
    });
  });

  it('reads nested directories under a key, and a trailing slash on the key changes nothing', async () => {
    await put({ '/n/a/b/c/d': 'deep', '/n/a/x': 'shallow', '/n/ab': 'other' });
    const expected = { [`${P}/n/a/b/c/d`]: 'deep', [`${P}/n/a/x`]: 'shallow' };
    expect(Object.fromEntries(await client.getValues([`${P}/n/a`]))).to.deep.equal(expected);
    expect(Object.fromEntries(await client.getValues([`${P}/n/a/`]))).to.deep.equal(expected);
  });

  it('yields no entry for a missing key, next to the keys that exist', async () => {
    await put({ '/m/present': 'yes' });
    expect(Object.fromEntries(await client.getValues([`${P}/m/absent`, `${P}/m/present`]))).to.deep.equal({
      [`${P}/m/present`]: 'yes',
    });
    expect(Object.fromEntries(await client.getValues([`${P}/m/absent`]))).to.deep.equal({});
  });

  it('returns values byte for byte: spaces, newlines, unicode and template braces', async () => {
    const values = {
      '/v/spaces': '  leading and trailing  ',
      '/v/lines': 'line one\nline two\r\n\ttabbed\n',
      '/v/unicode': 'héllo wörld ✓ 日本語 🚀',
      '/v/braces': '{{ .Values }} {{{raw}}} }}{{',
      '/v/empty': '',
    };
    await put(values);
    const got = await client.getValues([`${P}/v`]);
    expect(Object.fromEntries(got)).to.deep.equal(
      Object.fromEntries(Object.entries(values).map(([k, v]) => [`${P}${k}`, v])),
    );
  });

  it('reads 200+ keys in one call, in transactions of at most 128 operations, all at one revision', async () => {
    const keys: string[] = [];
    const expected: Record<string, string> = {};
    for (let i = 0; i < 220; i++) {
      const key = `${P}/many/k${String(i).padStart(3, '0')}`;
      keys.push(key);
      expected[key] = `value ${i}`;
    }
    await Promise.all(keys.map((k) => admin.put(k).value(expected[k] ?? '')));
    const seen: Array<{ requestedRevision: number; revision: number; operations: number }> = [];
    const watched = await createClient(options({ nodes: [endpoint] }), recordingLogger(), {
      afterTxn: (info) => void seen.push(info),
    });
    try {
      expect(Object.fromEntries(await watched.getValues(keys))).to.deep.equal(expected);
      // Two operations per key (the key, and the range under key/), so 440 operations in 4 transactions.
      expect(seen).to.have.length(Math.ceil((keys.length * 2) / ETCD_MAX_TXN_OPS));
      for (const txnInfo of seen) expect(txnInfo.operations).to.be.at.most(ETCD_MAX_TXN_OPS);
      const first = seen[0]!;
      expect(first.requestedRevision).to.equal(0);
      for (const later of seen.slice(1)) {
        expect(later.requestedRevision).to.equal(first.revision);
        expect(later.revision).to.be.at.least(first.revision);
      }
      expect(watched.lastRevision()).to.equal(first.revision);
    } finally {
      await watched.close();
    }
  });

  it('is a consistent snapshot: a write landing between its transactions is not seen', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `${P}/snap/k${String(i).padStart(3, '0')}`);
    for (const key of keys) await admin.put(key).value('before');
    const last = keys[keys.length - 1]!;
    let wrote = false;
    const racing = await createClient(options({ nodes: [endpoint] }), recordingLogger(), {
      afterTxn: async () => {
        if (wrote) return;
        wrote = true;
        // The last key is read by the second transaction, after this write is committed.
        await admin.put(last).value('after');
      },
    });
    try {
      const got = await racing.getValues(keys);
      expect(wrote).to.equal(true);
      expect(got.get(last)).to.equal('before');
      expect((await racing.getValues([last])).get(last)).to.equal('after');
    } finally {
      await racing.close();
    }
  });

  it('accepts -backend etcdv3 and http:// endpoints the same way', async () => {
    await put({ '/v3/key': 'v3 value' });
    const v3 = await createClient(
      options({ backend: 'etcdv3', nodes: [`http://${endpoint}`] }),
      recordingLogger(),
    );
    try {
      expect(Object.fromEntries(await v3.getValues([`${P}/v3/key`]))).to.deep.equal({
        [`${P}/v3/key`]: 'v3 value',
      });
    } finally {
      await v3.close();
    }
  });

  it('fails over to a live endpoint when the first one is dead', async () => {
    await put({ '/fo/key': 'reached' });
    const dead = await deadEndpoint();
    const failover = await createClient(options({ nodes: [dead, endpoint] }), recordingLogger());
    try {
      // The client picks endpoints in random order: read a few times so the dead one is surely tried.
      for (let i = 0; i < 4; i++) {
        expect(Object.fromEntries(await failover.getValues([`${P}/fo/key`]))).to.deep.equal({
          [`${P}/fo/key`]: 'reached',
        });
      }
    } finally {
      await failover.close();
    }
  });

  it('rejects createClient with a BackendError naming the backend, the endpoints and the cause when nothing listens', async function () {
    this.timeout(15_000);
    const dead = [await deadEndpoint(), await deadEndpoint()];
    const err = await createFailure({ nodes: dead, connectTimeoutMs: 2000 });
    expect(err).to.be.instanceOf(BackendError);
    const backendError = err as BackendError;
    expect(backendError.backend).to.equal('etcd');
    expect(backendError.endpoints).to.deep.equal(dead.map((d) => `http://${d}`));
    expect(backendError.message).to.contain(dead[0]).and.to.contain(dead[1]).and.to.contain('ECONNREFUSED');
  });

  it('fails createClient once against a silent endpoint, naming it, without a circuit-breaker message', async function () {
    this.timeout(30_000);
    const silent = await silentEndpoint();
    const timeoutMs = 1000;
    try {
      const err = await createFailure({ nodes: [silent.endpoint], connectTimeoutMs: timeoutMs });
      expect(err).to.be.instanceOf(BackendError);
      expect((err as Error).message)
        .to.contain(`http://${silent.endpoint}`)
        .and.to.match(/deadline/i)
        .and.not.to.match(/circuit/i);
    } finally {
      await silent.close();
    }
  });

  it('reads through the live endpoint when the other one is silent', async function () {
    this.timeout(30_000);
    await put({ '/silent/key': 'reached' });
    const silent = await silentEndpoint();
    try {
      const mixed = await createClient(
        options({ nodes: [silent.endpoint, endpoint], connectTimeoutMs: 1000 }),
        recordingLogger(),
      );
      try {
        // Endpoints are picked in random order: read a few times so the silent one is surely tried.
        for (let i = 0; i < 6; i++) {
          expect(Object.fromEntries(await mixed.getValues([`${P}/silent/key`]))).to.deep.equal({
            [`${P}/silent/key`]: 'reached',
          });
        }
      } finally {
        await mixed.close();
      }
    } finally {
      await silent.close();
    }
  });

  it('names the real cause, not "circuit breaker is open", when every endpoint failed just before', async function () {
    this.timeout(30_000);
    await put({ '/cb/key': 'v' });
    const proxies = [await tcpProxy(endpoint), await tcpProxy(endpoint)];
    const both = await createClient(
      options({ nodes: proxies.map((p) => p.endpoint), connectTimeoutMs: 2000 }),
      recordingLogger(),
    );
    try {
      expect(Object.fromEntries(await both.getValues([`${P}/cb/key`]))).to.deep.equal({
        [`${P}/cb/key`]: 'v',
      });
      for (const proxy of proxies) await proxy.shut();
      // The first read fails on both endpoints; the next ones find both paused and must still say why.
      for (let i = 0; i < 3; i++) {
        const err = await both.getValues([`${P}/cb/key`]).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(BackendError);
        expect((err as Error).message)
          .to.contain(proxies[0]!.endpoint)
          .and.to.match(/ECONNREFUSED|UNAVAILABLE/)
          .and.not.to.match(/circuit/i);
      }
    } finally {
      await both.close();
    }
  });

  it('reports a read that fails again after a compaction as a BackendError naming the endpoints', async () => {
    const keys = Array.from({ length: 80 }, (_, i) => `${P}/compact/k${String(i).padStart(3, '0')}`);
    for (const key of keys) await admin.put(key).value('v');
    // 160 operations: two transactions. Before each second one, the revision it is pinned to is compacted.
    const compacting = await createClient(options({ nodes: [endpoint] }), recordingLogger(), {
      afterTxn: async ({ requestedRevision }) => {
        if (requestedRevision !== 0) return;
        const { header } = await admin.put(`${P}/compact/bump`).value('x');
        await admin.kv.compact({ revision: header.revision, physical: true });
      },
    });
    try {
      const err = await compacting.getValues(keys).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BackendError);
      expect((err as BackendError).endpoints).to.deep.equal([`http://${endpoint}`]);
      expect((err as Error).message)
        .to.contain(endpoint)
        .and.to.match(/compacted/);
    } finally {
      await compacting.close();
    }
  });

  it('bin/confd -onetime with six resources reports an unreachable etcd once and exits 1', async function () {
    this.timeout(60_000);
    const silent = await silentEndpoint();
    const ws = await Workspace.create();
    try {
      await ws.write('templates/t.hbs', '{{getv "/app/name" "unset"}}\n');
      for (let i = 0; i < 6; i++) {
        await ws.write(
          `conf.d/r${i}.toml`,
          `[template]\nsrc = "t.hbs"\ndest = "${ws.path(`out/r${i}.conf`)}"\nkeys = ["/app"]\n`,
        );
      }
      const run = await runConfd([
        '-onetime',
        '-backend',
        'etcd',
        '-node',
        silent.endpoint,
        '-connect-timeout',
        '1s',
        '-confdir',
        ws.root,
      ]);
      expect(run.code, run.stderr).to.equal(1);
      const errors = run.stderr.split('\n').filter((line) => line.includes(' ERROR '));
      expect(errors, run.stderr).to.have.length(1);
      expect(errors[0])
        .to.contain(silent.endpoint)
        .and.not.to.match(/circuit/i);
    } finally {
      await ws.remove();
      await silent.close();
    }
  });

  it('lets the process exit on its own after a connection failure, with one message and no stack trace', async function () {
    this.timeout(60_000);
    const run = await createClientInChild(
      'etcd',
      options({ nodes: [await deadEndpoint()], connectTimeoutMs: 2000 }),
    );
    expect(run.timedOut, 'process still running: something keeps the event loop alive').to.equal(false);
    expect(run.exitCode).to.equal(0);
    expect(run.stdout).to.match(/^BackendError: etcd: cannot reach /);
    expect(run.stderr).to.equal('');
  });
});
