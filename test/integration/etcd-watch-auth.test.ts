import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Etcd3, Range } from 'etcd3';
import { createClient, type EtcdStoreClient } from '../../src/backends/etcd.js';
import type { BackendOptions } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import { runStoresScript } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { recordingLogger } from '../support/loggers.js';
import { never } from '../support/async.js';

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
      await admin.user('reader').create(READER_PASSWORD);
      await admin.user('reader').addRole('reader');
      await admin.auth.authEnable();
    } finally {
      admin.close();
    }
    root = new Etcd3({ hosts: `http://${endpoint}`, auth: { username: 'root', password: ROOT_PASSWORD } });
    logger = recordingLogger();
    reader = await createClient(
      options({ nodes: [endpoint], basicAuth: true, username: 'reader', password: READER_PASSWORD }),
      logger,
    );
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
    const { index } = await reader.watchPrefix('/app/allowed', [], { waitIndex: 0, signal: never() });
    const waiting = reader.watchPrefix('/app/allowed', [], { waitIndex: index, signal: never() });
    const revision = Number((await root.put('/app/allowed/key').value('v')).header.revision);
    expect(await waiting).to.deep.equal({ index: revision, changedKeys: ['/app/allowed/key'] });
  });

  for (const prefix of ['/app/secret', '/app/half']) {
    it(`rejects with a permission error, every time, for a prefix the user may not watch (${prefix})`, async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const err = await reader
          .watchPrefix(prefix, [], { waitIndex: 0, signal: never() })
          .catch((e: unknown) => e);
        expect(err).to.be.instanceOf(BackendError);
        expect((err as Error).message)
          .to.contain('permission denied for user reader')
          .and.to.contain(prefix);
      }
      expect(logger.lines.join('\n')).not.to.contain(READER_PASSWORD);
    });
  }

  it('reports a watch etcd refuses at creation, and later watches of the client still work', async () => {
    // With an index, nothing is read first: the refusal comes with the watch's creation.
    const err = await reader
      .watchPrefix('/app/half', [], { waitIndex: 1, signal: never() })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BackendError);
    expect((err as Error).message).to.contain('permission denied for user reader watching /app/half');
    const { index } = await reader.watchPrefix('/app/allowed/later', [], { waitIndex: 0, signal: never() });
    const waiting = reader.watchPrefix('/app/allowed/later', [], { waitIndex: index, signal: never() });
    const revision = Number((await root.put('/app/allowed/later/key').value('v')).header.revision);
    expect(await waiting).to.deep.equal({ index: revision, changedKeys: ['/app/allowed/later/key'] });
  });
});
