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

const options = (over: Partial<BackendOptions>): BackendOptions =>
  backendOptions({ backend: 'etcd', connectTimeoutMs: 3000, ...over });

const ROOT_PASSWORD = 'r00t-Secret!';
const READER_PASSWORD = 'reader-Secret!';

// Enabling auth changes the server for every client, so this suite runs its own etcd instead of the shared one.
describe('etcd backend with authentication (own etcd instance)', function () {
  let dir: string;
  let endpoint: string;

  before(async function () {
    this.timeout(180_000);
    dir = await mkdtemp(join(tmpdir(), 'confd-etcd-auth-'));
    endpoint = await runStoresScript(['start', 'etcd', dir]);
    const admin = new Etcd3({ hosts: `http://${endpoint}` });
    try {
      await admin.put('/app/allowed').value('allowed root');
      await admin.put('/app/allowed/key').value('visible');
      await admin.put('/app/secret/key').value('hidden');
      await admin.role('root').create();
      await admin.user('root').create(ROOT_PASSWORD);
      await admin.user('root').addRole('root');
      await admin.role('reader').create();
      // The prefix without a trailing slash covers both ranges a read makes: the key and everything under key/.
      await admin.role('reader').grant({ permission: 'Read', range: Range.prefix('/app/allowed') });
      await admin.user('reader').create(READER_PASSWORD);
      await admin.user('reader').addRole('reader');
      await admin.auth.authEnable();
    } finally {
      admin.close();
    }
  });

  after(async function () {
    this.timeout(60_000);
    if (dir) {
      await runStoresScript(['stop', 'etcd', dir], 60_000);
      await rm(dir, { recursive: true, force: true });
    }
  });

  async function read(
    over: Partial<BackendOptions>,
    keys: string[],
    logger = recordingLogger(),
  ): Promise<unknown> {
    let client: EtcdStoreClient;
    try {
      client = await createClient(options({ nodes: [endpoint], ...over }), logger);
    } catch (err) {
      // Connection and credentials are checked when the client is created.
      return err;
    }
    try {
      return Object.fromEntries(await client.getValues(keys));
    } catch (err) {
      return err;
    } finally {
      await client.close();
    }
  }

  it('reads with the right user and password', async () => {
    const logger = recordingLogger();
    const got = await read({ basicAuth: true, username: 'root', password: ROOT_PASSWORD }, ['/app'], logger);
    expect(got).to.deep.equal({
      '/app/allowed': 'allowed root',
      '/app/allowed/key': 'visible',
      '/app/secret/key': 'hidden',
    });
    expect(logger.lines.join('\n')).not.to.contain(ROOT_PASSWORD);
  });

  it('says authentication failed for the user on a wrong password, and never shows the password', async () => {
    const logger = recordingLogger();
    const err = await read(
      { basicAuth: true, username: 'root', password: 'wrong-Password' },
      ['/app'],
      logger,
    );
    expect(err).to.be.instanceOf(BackendError);
    const message = (err as BackendError).message;
    expect(message).to.contain('authentication failed for user root').and.to.contain(endpoint);
    expect(message).not.to.contain('wrong-Password');
    expect(logger.lines.join('\n')).not.to.contain('wrong-Password');
  });

  it('checks the credentials when the client is created, before anything is read', async () => {
    const err = await createClient(
      options({ nodes: [endpoint], basicAuth: true, username: 'root', password: 'wrong-Password' }),
      recordingLogger(),
    ).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BackendError);
    expect((err as Error).message).to.contain('authentication failed for user root');
  });

  it('says permission denied when the user may not read the keys', async () => {
    const err = await read({ basicAuth: true, username: 'reader', password: READER_PASSWORD }, [
      '/app/secret',
    ]);
    expect(err).to.be.instanceOf(BackendError);
    expect((err as BackendError).message)
      .to.contain('permission denied for user reader')
      .and.to.contain('/app/secret');
  });

  it('reads what a restricted user is granted', async () => {
    const got = await read({ basicAuth: true, username: 'reader', password: READER_PASSWORD }, [
      '/app/allowed',
    ]);
    expect(got).to.deep.equal({ '/app/allowed': 'allowed root', '/app/allowed/key': 'visible' });
  });

  it('authenticates again, once, when etcd no longer knows its token', async () => {
    const logger = recordingLogger();
    const client = await createClient(
      options({ nodes: [endpoint], basicAuth: true, username: 'reader', password: READER_PASSWORD }),
      logger,
    );
    try {
      const expected = { '/app/allowed': 'allowed root', '/app/allowed/key': 'visible' };
      expect(Object.fromEntries(await client.getValues(['/app/allowed']))).to.deep.equal(expected);
      // Turning auth off drops every token etcd handed out (as their TTL running out would).
      const root = new Etcd3({
        hosts: `http://${endpoint}`,
        auth: { username: 'root', password: ROOT_PASSWORD },
      });
      try {
        await root.auth.authDisable();
      } finally {
        root.close();
      }
      const admin = new Etcd3({ hosts: `http://${endpoint}` });
      try {
        await admin.auth.authEnable();
      } finally {
        admin.close();
      }
      expect(Object.fromEntries(await client.getValues(['/app/allowed']))).to.deep.equal(expected);
      expect(logger.lines.join('\n')).not.to.contain(READER_PASSWORD);
    } finally {
      await client.close();
    }
  });

  it('ignores -username and -password unless -basic-auth is set, as confd does', async () => {
    const err = await read({ basicAuth: false, username: 'root', password: ROOT_PASSWORD }, ['/app']);
    expect(err).to.be.instanceOf(BackendError);
    expect((err as BackendError).backend).to.equal('etcd');
    expect((err as BackendError).message).to.contain(`authentication required at http://${endpoint}`);
  });
});
