import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Etcd3, Range } from 'etcd3';
import { createClient, type EtcdClientHooks, type EtcdStoreClient } from '../../src/backends/etcd.js';
import type { BackendOptions, PrefixWatch, WatchResult } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import { runStoresScript } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { recordingLogger } from '../support/loggers.js';
import { never } from '../support/async.js';
import { tcpProxy } from '../support/net.js';

const options = (over: Partial<BackendOptions>): BackendOptions =>
  backendOptions({ backend: 'etcd', connectTimeoutMs: 3000, ...over });

const ROOT_PASSWORD = 'r00t-Watch!';
const READER_PASSWORD = 'reader-Watch!';

// Enabling auth changes the server for every client, so this suite runs its own etcd instead of the shared one.
describe('etcd watch with authentication (own etcd instance)', function () {
  this.timeout(30_000);
  let dir: string;
  let endpoint: string;
  let root: Etcd3;
  let reader: EtcdStoreClient;
  let logger: ReturnType<typeof recordingLogger>;

  const readerOptions = (nodes: string[]): BackendOptions =>
    options({ nodes, basicAuth: true, username: 'reader', password: READER_PASSWORD });

  async function readerClient(nodes: string[], hooks: EtcdClientHooks = {}): Promise<EtcdStoreClient> {
    return createClient(readerOptions(nodes), logger, hooks);
  }

  const next = (watch: PrefixWatch, index = watch.index): Promise<WatchResult> =>
    watch.next(index, [], { signal: never() });

  async function put(key: string, value: string): Promise<number> {
    return Number((await root.put(key).value(value)).header.revision);
  }

  before(async function () {
    this.timeout(180_000);
    dir = await mkdtemp(join(tmpdir(), 'confd-etcd-watch-auth-'));
    endpoint = await runStoresScript(['start', 'etcd', dir]);
    const admin = new Etcd3({ hosts: `http://${endpoint}` });
    try {
      await admin.role('root').create();
      await admin.user('root').create(ROOT_PASSWORD);
      await admin.user('root').addRole('root');
      await admin.role('reader').create();
      await admin.role('reader').grant({ permission: 'Read', range: Range.prefix('/app/allowed') });
      // The key alone, not what lies under it: reading its revision works, watching its subtree does not.
      await admin.role('reader').grant({ permission: 'Read', key: '/app/half' });
      // Revoked by the tests below while a watch of the reader is being set up, or while it is cut off.
      await admin.role('reader').grant({ permission: 'Read', range: Range.prefix('/app/revoked') });
      await admin.role('reader').grant({ permission: 'Read', range: Range.prefix('/app/lost') });
      await admin.user('reader').create(READER_PASSWORD);
      await admin.user('reader').addRole('reader');
      await admin.auth.authEnable();
    } finally {
      admin.close();
    }
    root = new Etcd3({ hosts: `http://${endpoint}`, auth: { username: 'root', password: ROOT_PASSWORD } });
    logger = recordingLogger();
    reader = await readerClient([endpoint]);
  });

  after(async function () {
    this.timeout(60_000);
    await reader?.close();
    root?.close();
    if (dir) {
      await runStoresScript(['stop', 'etcd', dir], 60_000);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('watches what the user may read', async () => {
    const watch = await reader.watch('/app/allowed');
    const waiting = next(watch);
    const revision = await put('/app/allowed/key', 'v');
    expect(await waiting).to.deep.equal({ index: revision, changedKeys: ['/app/allowed/key'] });
    watch.release();
  });

  for (const prefix of ['/app/secret', '/app/half']) {
    it(`rejects arming with a permission error, every time, for a prefix the user may not watch (${prefix})`, async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const err = await reader.watch(prefix).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(BackendError);
        expect((err as Error).message)
          .to.contain('permission denied for user reader')
          .and.to.contain(prefix);
      }
      expect(logger.lines.join('\n')).not.to.contain(READER_PASSWORD);
    });
  }

  it('reports a watch etcd refuses at its creation, and later watches of the client still work', async () => {
    // Access is revoked after the revision was read and before the watch is sent: the refusal comes with
    // the watch's creation, and must block no later watch of the client.
    const revoking = await readerClient([endpoint], {
      beforeWatch: async ({ prefix }) => {
        if (prefix !== '/app/revoked') return;
        await root.role('reader').revoke({ permission: 'Read', range: Range.prefix('/app/revoked') });
      },
    });
    try {
      const err = await revoking.watch('/app/revoked').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BackendError);
      expect((err as Error).message).to.contain('permission denied for user reader watching /app/revoked');
      const watch = await revoking.watch('/app/allowed/later');
      const waiting = next(watch);
      const revision = await put('/app/allowed/later/key', 'v');
      expect(await waiting).to.deep.equal({ index: revision, changedKeys: ['/app/allowed/later/key'] });
    } finally {
      await revoking.close();
    }
  });

  it('fails the watch whose access was revoked while it was cut off, and keeps the others of the client', async function () {
    this.timeout(60_000);
    const proxy = await tcpProxy(endpoint);
    const cutOff = await readerClient([proxy.endpoint], { disconnectGraceMs: 60_000 });
    try {
      // The revoked watch first: re-creating it must not hold up the others.
      const lost = await cutOff.watch('/app/lost');
      const kept = await cutOff.watch('/app/allowed/kept');
      const failing = next(lost).catch((e: unknown) => e);
      const waiting = next(kept);
      proxy.partition();
      await root.role('reader').revoke({ permission: 'Read', range: Range.prefix('/app/lost') });
      proxy.heal();
      const err = await failing;
      expect(err).to.be.instanceOf(BackendError);
      expect((err as Error).message)
        .to.contain('permission denied for user reader')
        .and.to.contain('/app/lost');
      const revision = await put('/app/allowed/kept/key', 'v');
      expect(await waiting).to.deep.equal({ index: revision, changedKeys: ['/app/allowed/kept/key'] });
      // A fresh watch on the stream is created too.
      const fresh = await cutOff.watch('/app/allowed/fresh');
      const freshWaiting = next(fresh);
      const later = await put('/app/allowed/fresh/key', 'v');
      expect(await freshWaiting).to.deep.equal({ index: later, changedKeys: ['/app/allowed/fresh/key'] });
    } finally {
      await cutOff.close();
      await proxy.shut();
    }
  });
});
