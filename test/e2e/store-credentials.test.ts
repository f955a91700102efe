import { createHash, randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Consul from 'consul';
import { Etcd3 } from 'etcd3';
import zookeeper from 'node-zookeeper-client';
import { startDevAgent, stopAgent } from '../integration/support/consul-agent.js';
import { runStoresScript, useStore } from '../integration/support/stores.js';
import { ZkFixture } from '../integration/support/zookeeper-fixture.js';
import { freePort } from '../support/net.js';
import { runConfd, Workspace } from './support/confd-process.js';
import type { ConfdRun } from './support/confd-process.js';

/**
 * Wrong credentials against real servers: the run fails with exit 1 and a message naming the backend,
 * the endpoint and what was refused, never echoing the secret, and the destination stays as it was. Each
 * suite also renders with the right credentials, so a refusal for any other reason cannot pass.
 */
describe('wrong store credentials (end to end, real servers)', function () {
  this.timeout(60_000);
  let ws: Workspace;
  let dest: string;

  beforeEach(async () => {
    ws = await Workspace.create();
    await ws.write('templates/app.hbs', 'secret={{getv "/secret/token"}}\n');
    dest = await ws.write('out/app.conf', 'old content\n');
  });
  afterEach(() => ws.remove());

  async function runWith(prefix: string, args: string[]): Promise<ConfdRun> {
    await ws.write(
      'conf.d/app.toml',
      `[template]\nsrc = "app.hbs"\ndest = "${dest}"\nprefix = "${prefix}"\nkeys = ["/secret"]\n`,
    );
    return runConfd(['-onetime', '-confdir', ws.root, '-connect-timeout', '3s', ...args]);
  }

  async function expectRefused(run: ConfdRun, secret: string, ...says: (string | RegExp)[]): Promise<void> {
    const before = await stat(dest, { bigint: true });
    expect(run.code, run.stderr).to.equal(1);
    for (const s of says) {
      if (typeof s === 'string') expect(run.stderr).to.include(s);
      else expect(run.stderr).to.match(s);
    }
    expect(run.stderr + run.stdout).not.to.include(secret);
    expect(await readFile(dest, 'utf8')).to.equal('old content\n');
    expect((await stat(dest, { bigint: true })).mtimeNs).to.equal(before.mtimeNs);
    expect(await readdir(join(ws.root, 'out'))).to.deep.equal(['app.conf']);
  }

  describe('etcd user authentication (own etcd instance with auth enabled)', () => {
    const ROOT_PASSWORD = 'r00t-Secret!';
    let dir: string;
    let endpoint: string;

    before(async function () {
      this.timeout(180_000);
      dir = await mkdtemp(join(tmpdir(), 'confd-e2e-etcd-auth-'));
      endpoint = await runStoresScript(['start', 'etcd', dir]);
      const admin = new Etcd3({ hosts: `http://${endpoint}` });
      try {
        await admin.put('/e2e/secret/token').value('from-etcd');
        await admin.role('root').create();
        await admin.user('root').create(ROOT_PASSWORD);
        await admin.user('root').addRole('root');
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

    const args = (password: string) => [
      '-backend',
      'etcd',
      '-node',
      endpoint,
      '-basic-auth',
      '-username',
      'root',
      '-password',
      password,
    ];

    it('renders with the right password (control)', async () => {
      const run = await runWith('/e2e', args(ROOT_PASSWORD));
      expect(run.code, run.stderr).to.equal(0);
      expect(await readFile(dest, 'utf8')).to.equal('secret=from-etcd\n');
    });

    it('a wrong password: exit 1, "authentication failed" for the user at the endpoint, dest untouched', async () => {
      const wrong = 'wrong-Password-42';
      const run = await runWith('/e2e', args(wrong));
      await expectRefused(run, wrong, 'etcd', 'authentication failed for user root', endpoint);
    });
  });

  describe('ZooKeeper digest auth (a protected node on the shared server)', () => {
    const user = 'confd';
    const password = 'zk-Secret-7';
    const root = `/confd-e2e-auth-${randomBytes(4).toString('hex')}`;
    let endpoint: string;

    before(async function () {
      this.timeout(180_000);
      ({ endpoint } = await useStore('zookeeper'));
      const owner = await ZkFixture.connect(endpoint, `${user}:${password}`);
      try {
        await owner.put(`${root}/secret`, '');
        const digest = createHash('sha1').update(`${user}:${password}`).digest('base64');
        const acls = [
          new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('digest', `${user}:${digest}`)),
        ];
        await new Promise<void>((resolve, reject) =>
          owner.client.create(`${root}/secret/token`, Buffer.from('from-zookeeper'), acls, (err) =>
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
        await owner.remove(root);
      } finally {
        owner.close();
      }
    });

    const args = (pw: string) => [
      '-backend',
      'zookeeper',
      '-node',
      endpoint,
      '-username',
      user,
      '-password',
      pw,
    ];

    it('renders with the right password (control)', async () => {
      const run = await runWith(root, args(password));
      expect(run.code, run.stderr).to.equal(0);
      expect(await readFile(dest, 'utf8')).to.equal('secret=from-zookeeper\n');
    });

    it('a wrong password: exit 1, NOAUTH naming the node and the endpoint, dest untouched', async () => {
      const wrong = 'not-the-zk-password';
      const run = await runWith(root, args(wrong));
      await expectRefused(run, wrong, 'zookeeper', 'NOAUTH', `${root}/secret/token at ${endpoint}`);
    });
  });

  describe('Consul ACL token (own agent, default deny)', () => {
    const master = `master-${randomBytes(8).toString('hex')}`;
    let dir: string;
    let agent: ChildProcess | undefined;
    let endpoint: string;

    before(async function () {
      this.timeout(180_000);
      dir = await mkdtemp(join(tmpdir(), 'confd-e2e-consul-acl-'));
      const http = await freePort();
      endpoint = `127.0.0.1:${http}`;
      const admin = new Consul({ host: '127.0.0.1', port: http, defaults: { token: master } });
      try {
        agent = await startDevAgent(
          'confd-e2e-acl',
          dir,
          `acl {\n  enabled = true\n  default_policy = "deny"\n  tokens {\n    master = "${master}"\n  }\n}\n`,
          ['-http-port', `${http}`],
          async () => (await admin.kv.set('e2e/secret/token', 'from-consul')) === true,
        );
      } finally {
        admin.destroy();
      }
    });
    after(async function () {
      this.timeout(30_000);
      await stopAgent(agent);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const args = (token: string) => ['-backend', 'consul', '-node', endpoint, '-auth-token', token];

    it('renders with the right token (control)', async () => {
      const run = await runWith('/e2e', args(master));
      expect(run.code, run.stderr).to.equal(0);
      expect(await readFile(dest, 'utf8')).to.equal('secret=from-consul\n');
    });

    it('an unknown token: exit 1, "permission denied (ACL)" at the endpoint, dest untouched', async () => {
      const bogus = 'bogus-token-0123456789';
      const run = await runWith('/e2e', args(bogus));
      await expectRefused(run, bogus, 'consul', 'permission denied (ACL)', endpoint);
    });
  });
});
