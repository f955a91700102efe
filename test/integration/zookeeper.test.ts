import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import zookeeper from 'node-zookeeper-client';
import { createClient, zookeeperEndpoints } from '../../src/backends/zookeeper.js';
import { openSession, type ZkNodeReader, type ZkSession } from '../../src/backends/zookeeper-session.js';
import { readValues } from '../../src/backends/zookeeper-tree.js';
import type { BackendOptions, StoreClient } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import { useStore } from './support/stores.js';
import { repoRoot } from '../e2e/support/confd-process.js';
import { execa } from 'execa';
import { backendOptions } from '../support/backend-options.js';
import { quietLogger as quiet } from '../support/loggers.js';
import { freePort as deadPort } from '../support/net.js';
import { ZkFixture } from './support/zookeeper-fixture.js';
import { packetsReceived } from './support/four-letter-word.js';

const storeOptions = (nodes: string[], extra: Partial<BackendOptions> = {}): BackendOptions =>
  backendOptions({ backend: 'zookeeper', nodes, ...extra });

// Every read test runs twice: with reads sent in multiRead batches (the server here is 3.8), and one by one
// as for a server older than 3.6.
for (const batched of [true, false])
  describe(`zookeeper backend (real server, reads ${batched ? 'in multiRead batches' : 'one by one'})`, function () {
    this.timeout(30_000);
    const connectClient = (options: BackendOptions): Promise<StoreClient> =>
      createClient(options, quiet, batched ? {} : { batchedReads: false });

    let endpoint: string;
    let fixture: ZkFixture;
    let client: StoreClient;
    const root = `/confd-test-${randomBytes(4).toString('hex')}`;

    before(async function () {
      this.timeout(180_000);
      ({ endpoint } = await useStore('zookeeper'));
      fixture = await ZkFixture.connect(endpoint);
      await fixture.put(`${root}/app/db/host`, 'db.local');
      await fixture.put(`${root}/app/db/port`, '5432');
      await fixture.put(`${root}/app/dbx/host`, 'other.local');
      await fixture.put(`${root}/app/db/empty`, '');
      await fixture.put(`${root}/nested/a/b/c/d`, 'deep');
      await fixture.put(`${root}/nested/a/leaf`, 'shallow');
      await fixture.setData(`${root}/nested/a`, 'data of a directory');
      await fixture.put(`${root}/odd/spaces`, '  two  spaces  ');
      await fixture.put(`${root}/odd/newlines`, 'line 1\nline 2\n');
      await fixture.put(`${root}/odd/unicode`, 'grüße, 日本, 🚀');
      await fixture.put(`${root}/odd/braces`, '{{ .not_a_template }} {{#if x}}');
      client = await connectClient(storeOptions([endpoint]));
    });

    after(async () => {
      await client?.close();
      if (fixture) {
        await fixture.remove(root);
        fixture.close();
      }
    });

    it('reads one exact key', async () => {
      expect(Object.fromEntries(await client.getValues([`${root}/app/db/host`]))).to.deep.equal({
        [`${root}/app/db/host`]: 'db.local',
      });
    });

    it('reads a subtree on the path boundary: /app/db does not include /app/dbx', async () => {
      expect(Object.fromEntries(await client.getValues([`${root}/app/db`]))).to.deep.equal({
        [`${root}/app/db/host`]: 'db.local',
        [`${root}/app/db/port`]: '5432',
        [`${root}/app/db/empty`]: '',
      });
    });

    it('walks nested directories; a node with children is a directory and its own data is not a value', async () => {
      expect(Object.fromEntries(await client.getValues([`${root}/nested`]))).to.deep.equal({
        [`${root}/nested/a/b/c/d`]: 'deep',
        [`${root}/nested/a/leaf`]: 'shallow',
      });
    });

    it('yields no keys for a path that does not exist, without failing the other keys', async () => {
      expect(Object.fromEntries(await client.getValues([`${root}/missing`]))).to.deep.equal({});
      expect(
        Object.fromEntries(await client.getValues([`${root}/missing/deeper`, `${root}/app/db/port`])),
      ).to.deep.equal({
        [`${root}/app/db/port`]: '5432',
      });
    });

    it("accepts confd's trailing /* and unclean keys", async () => {
      expect(await client.getValues([`${root}//app/db/*`])).to.have.keys(
        `${root}/app/db/host`,
        `${root}/app/db/port`,
        `${root}/app/db/empty`,
      );
    });

    it('returns values byte for byte: spaces, newlines, unicode and template braces', async () => {
      expect(Object.fromEntries(await client.getValues([`${root}/odd`]))).to.deep.equal({
        [`${root}/odd/spaces`]: '  two  spaces  ',
        [`${root}/odd/newlines`]: 'line 1\nline 2\n',
        [`${root}/odd/unicode`]: 'grüße, 日本, 🚀',
        [`${root}/odd/braces`]: '{{ .not_a_template }} {{#if x}}',
      });
    });

    it('reads 250 keys spread over several directories', async () => {
      const expected: Record<string, string> = {};
      const writes: Promise<void>[] = [];
      for (let dir = 0; dir < 5; dir += 1) {
        for (let i = 0; i < 50; i += 1) {
          const key = `${root}/many/d${dir}/k${i}`;
          expected[key] = `value ${dir}/${i}`;
          writes.push(fixture.put(key, expected[key]));
        }
      }
      await Promise.all(writes);
      const before = await packetsReceived(endpoint);
      const values = await client.getValues([`${root}/many`]);
      const requests = (await packetsReceived(endpoint)) - before;
      expect(values.size).to.equal(250);
      expect(Object.fromEntries(values)).to.deep.equal(expected);
      // One request per level of the tree in batches (a few more for the mntr connections and pings);
      // one per node and per directory listing without.
      if (batched) expect(requests).to.be.within(3, 20);
      else expect(requests).to.be.at.least(250 + 6);
    });

    describe('subtree walk over one session', () => {
      let session: ZkSession;

      before(async () => {
        session = await openSession(
          { endpoints: [endpoint], connectTimeoutMs: 5000, batchedReads: batched },
          quiet,
        );
      });

      after(async () => {
        await session?.close();
      });

      it('issues the requests for sibling nodes concurrently, not one round trip after another', async () => {
        let inFlight = 0;
        let maxInFlight = 0;
        const track = async <T>(request: Promise<T>): Promise<T> => {
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          try {
            return await request;
          } finally {
            inFlight -= 1;
          }
        };
        const counting: ZkNodeReader = {
          getChildren: (path, watcher) => track(session.getChildren(path, watcher)),
          getData: (path, watcher) => track(session.getData(path, watcher)),
          exists: (path, watcher) => track(session.exists(path, watcher)),
        };
        const values = await readValues(counting, [`${root}/app`]);
        expect(values).to.have.keys(
          `${root}/app/db/host`,
          `${root}/app/db/port`,
          `${root}/app/db/empty`,
          `${root}/app/dbx/host`,
        );
        expect(maxInFlight).to.be.greaterThan(1);
        expect(inFlight).to.equal(0);
      });

      it('skips a node deleted while the walk is under way (NO_NODE)', async () => {
        await fixture.put(`${root}/vanishing/stays`, 'here');
        await fixture.put(`${root}/vanishing/goes/away`, 'gone');
        // Deletes the subtree on the server right before the walker asks for it.
        const deleting: ZkNodeReader = {
          getChildren: async (path, watcher) => {
            if (path === `${root}/vanishing/goes`) await fixture.remove(path);
            return session.getChildren(path, watcher);
          },
          getData: (path, watcher) => session.getData(path, watcher),
          exists: (path, watcher) => session.exists(path, watcher),
        };
        expect(Object.fromEntries(await readValues(deleting, [`${root}/vanishing`]))).to.deep.equal({
          [`${root}/vanishing/stays`]: 'here',
        });
      });
    });

    it('connects when the first of several nodes is dead', async () => {
      const dead = `127.0.0.1:${await deadPort()}`;
      const multi = await connectClient(storeOptions([dead, endpoint]));
      try {
        expect(Object.fromEntries(await multi.getValues([`${root}/app/db/port`]))).to.deep.equal({
          [`${root}/app/db/port`]: '5432',
        });
      } finally {
        await multi.close();
      }
    });

    it('fails with a BackendError naming the endpoints and the cause when no server answers', async () => {
      const dead = [`127.0.0.1:${await deadPort()}`, `127.0.0.1:${await deadPort()}`];
      let caught: unknown;
      try {
        await connectClient(storeOptions(dead, { connectTimeoutMs: 1000 }));
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(BackendError);
      const err = caught as BackendError;
      expect(err.backend).to.equal('zookeeper');
      expect(err.endpoints).to.deep.equal(dead);
      expect(err.message).to.include(dead[0]).and.include(dead[1]).and.include('ECONNREFUSED');
      // Ended by the connect timeout, not left to the library's endless retry loop.
      expect(err.message).to.include('within 1000 ms');
    });

    it('rejects calls after close', async () => {
      const closing = await connectClient(storeOptions([endpoint]));
      await closing.close();
      await closing.close();
      let caught: unknown;
      await closing.getValues([`${root}/app`]).catch((err: unknown) => (caught = err));
      expect(caught).to.be.instanceOf(BackendError);
    });

    describe('digest auth', () => {
      const user = 'confd';
      const password = 's3cret';
      const digest = createHash('sha1').update(`${user}:${password}`).digest('base64');
      const acls = [
        new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('digest', `${user}:${digest}`)),
      ];

      before(async () => {
        const owner = await ZkFixture.connect(endpoint, `${user}:${password}`);
        try {
          await owner.put(`${root}/secure`, '');
          await new Promise<void>((resolve, reject) =>
            owner.client.create(`${root}/secure/token`, Buffer.from('t0ps3cret'), acls, (err) =>
              err ? reject(err) : resolve(),
            ),
          );
        } finally {
          owner.close();
        }
      });

      after(async () => {
        const owner = await ZkFixture.connect(endpoint, `${user}:${password}`);
        try {
          await owner.remove(`${root}/secure`);
        } finally {
          owner.close();
        }
      });

      it('reads a digest-protected node with the right username and password', async () => {
        const authed = await connectClient(storeOptions([endpoint], { username: user, password }));
        try {
          expect(Object.fromEntries(await authed.getValues([`${root}/secure`]))).to.deep.equal({
            [`${root}/secure/token`]: 't0ps3cret',
          });
        } finally {
          await authed.close();
        }
      });

      it('fails with a clear NOAUTH error for wrong credentials, naming the node and the endpoints', async () => {
        const wrong = await connectClient(storeOptions([endpoint], { username: user, password: 'nope' }));
        try {
          let caught: unknown;
          await wrong.getValues([`${root}/secure`]).catch((err: unknown) => (caught = err));
          expect(caught).to.be.instanceOf(BackendError);
          expect((caught as Error).message)
            .to.include('not authorized')
            .and.include('NOAUTH')
            .and.include(`${root}/secure/token at ${endpoint}`)
            .and.not.include('nope');
        } finally {
          await wrong.close();
        }
      });

      it('says credentials are needed when none were given, naming the endpoints', async () => {
        let caught: unknown;
        await client.getValues([`${root}/secure`]).catch((err: unknown) => (caught = err));
        expect(caught).to.be.instanceOf(BackendError);
        expect((caught as Error).message)
          .to.include('NOAUTH')
          .and.include(endpoint)
          .and.include('-username');
      });
    });
  });

describe('zookeeperEndpoints', () => {
  it('keeps host:port, adds the default port to a bare host, and defaults to 127.0.0.1:2181', () => {
    expect(zookeeperEndpoints(['zk1:2182', ' zk2 '])).to.deep.equal(['zk1:2182', 'zk2:2181']);
    expect(zookeeperEndpoints([])).to.deep.equal(['127.0.0.1:2181']);
  });
});

describe('zookeeper backend: closing when the server no longer answers (real server, stopped)', function () {
  this.timeout(20_000);

  it('drops the socket of a session whose closeSession gets no answer, so the process can end', async () => {
    const { endpoint, pid } = await useStore('zookeeper');
    const dir = await mkdtemp(join(tmpdir(), 'confd-zk-close-'));
    const script = join(dir, 'run.mts');
    // Connects and reads, says so, waits for the word to close (the server is stopped meanwhile), closes,
    // and leaves the process to end by itself: with anything left holding it, it would not.
    await writeFile(
      script,
      [
        `import { createClient } from ${JSON.stringify(join(repoRoot, 'src/backends/zookeeper.ts'))};`,
        `const quiet = { debug() {}, info() {}, warn() {}, error() {} };`,
        `const client = await createClient(${JSON.stringify(storeOptions([endpoint]))}, quiet);`,
        `await client.getValues(['/zookeeper']);`,
        `console.log('read');`,
        `process.stdin.once('data', () => { process.stdin.destroy(); void client.close(); });`,
      ].join('\n'),
    );
    const child = execa('node', ['--import', 'tsx', script], { cwd: repoRoot, reject: false });
    let stopped = false;
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('read')) resolve();
        });
        void child.then((run) => reject(new Error(`the child ended first: ${run.stderr}`)));
      });
      process.kill(pid, 'SIGSTOP');
      stopped = true;
      child.stdin?.write('close\n');
      const run = await child;
      expect(run.exitCode, run.stderr).to.equal(0);
    } finally {
      if (stopped) process.kill(pid, 'SIGCONT');
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
