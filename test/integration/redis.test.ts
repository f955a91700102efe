import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createClient, type RedisStoreClient } from '../../src/backends/redis.js';
import type { BackendOptions } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import type { KVPairs } from '../../src/kv-pairs.js';
import { runConfd, Workspace } from '../e2e/support/confd-process.js';
import { useStore } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { recordingLogger } from '../support/loggers.js';
import { deadEndpoint, silentEndpoint } from '../support/net.js';
import { createClientInChild } from '../support/client-in-child.js';

const options = (over: Partial<BackendOptions>): BackendOptions =>
  backendOptions({ backend: 'redis', connectTimeoutMs: 3000, ...over });

/** A confdir whose `count` resources all render /app/name into out/r<i>.conf. */
async function workspace(count: number): Promise<Workspace> {
  const ws = await Workspace.create();
  await ws.write('templates/t.hbs', 'name={{getv "/app/name" "unset"}}\n');
  for (let i = 0; i < count; i++) {
    await ws.write(
      `conf.d/r${i}.toml`,
      `[template]\nsrc = "t.hbs"\ndest = "${ws.path(`out/r${i}.conf`)}"\nkeys = ["/app"]\n`,
    );
  }
  return ws;
}

describe('redis backend (real redis)', function () {
  let endpoint: string;
  let admin: Redis;
  const opened: RedisStoreClient[] = [];
  // Every run writes under its own prefix (and, with ':' as separator, its own namespace).
  const id = `confd-ts-test-${randomBytes(4).toString('hex')}`;
  const P = `/${id}`;

  before(async function () {
    this.timeout(120_000);
    ({ endpoint } = await useStore('redis'));
    const [host, port] = endpoint.split(':');
    admin = new Redis({ host, port: Number(port), lazyConnect: true });
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });

  after(async () => {
    if (!admin) return;
    for (const db of [0, 5]) {
      await admin.select(db);
      const names = await admin.keys(`*${id}*`);
      if (names.length > 0) await admin.del(...names);
    }
    admin.disconnect();
  });

  /** createClient's rejection; a client it wrongly creates is closed after the test. */
  async function createFailure(over: Partial<BackendOptions>): Promise<unknown> {
    try {
      opened.push(await createClient(options(over), recordingLogger()));
      return undefined;
    } catch (err) {
      return err;
    }
  }

  async function open(
    over: Partial<BackendOptions> = {},
    logger = recordingLogger(),
  ): Promise<RedisStoreClient> {
    const client = await createClient(options({ nodes: [endpoint], ...over }), logger, {
      pollIntervalMs: 100,
    });
    opened.push(client);
    return client;
  }

  it('returns a string key itself and what lies under it on a path boundary, never a sibling', async () => {
    await admin.mset(`${P}/b/app/db`, 'root', `${P}/b/app/db/user`, 'alice', `${P}/b/app/db/pool/max`, '10');
    await admin.set(`${P}/b/app/dbx`, 'sibling');
    const client = await open();
    expect(Object.fromEntries(await client.getValues([`${P}/b/app/db`]))).to.deep.equal({
      [`${P}/b/app/db`]: 'root',
      [`${P}/b/app/db/user`]: 'alice',
      [`${P}/b/app/db/pool/max`]: '10',
    });
  });

  it('scans nested keys under a key that has no value of its own', async () => {
    await admin.mset(`${P}/n/a/b/c`, 'deep', `${P}/n/a/x`, 'shallow', `${P}/n/ab`, 'other');
    const client = await open();
    expect(Object.fromEntries(await client.getValues([`${P}/n/a`]))).to.deep.equal({
      [`${P}/n/a/b/c`]: 'deep',
      [`${P}/n/a/x`]: 'shallow',
    });
  });

  it('yields no entry for a missing key', async () => {
    await admin.set(`${P}/m/present`, 'yes');
    const client = await open();
    expect(Object.fromEntries(await client.getValues([`${P}/m/absent`, `${P}/m/present`]))).to.deep.equal({
      [`${P}/m/present`]: 'yes',
    });
    expect(Object.fromEntries(await client.getValues([`${P}/m/absent`]))).to.deep.equal({});
  });

  it('returns values byte for byte: spaces, newlines, unicode and template braces', async () => {
    const values: Record<string, string> = {
      [`${P}/v/spaces`]: '  padded  ',
      [`${P}/v/lines`]: 'one\ntwo\r\n\tthree\n',
      [`${P}/v/unicode`]: 'héllo ✓ 日本語 🚀',
      [`${P}/v/braces`]: '{{ .Values }} {{{raw}}}',
      [`${P}/v/empty`]: '',
    };
    await admin.mset(values);
    const client = await open();
    expect(Object.fromEntries(await client.getValues([`${P}/v`]))).to.deep.equal(values);
  });

  it('turns each field of a hash into a child key, at the key and under it', async () => {
    await admin.hset(`${P}/h/app/db`, { user: 'alice', 'pass word': 'p w' });
    await admin.hset(`${P}/h/app/cache`, { size: '64' });
    await admin.hset(`${P}/h/appx`, { no: 'sibling' });
    const client = await open();
    expect(Object.fromEntries(await client.getValues([`${P}/h/app/db`]))).to.deep.equal({
      [`${P}/h/app/db/user`]: 'alice',
      [`${P}/h/app/db/pass word`]: 'p w',
    });
    expect(Object.fromEntries(await client.getValues([`${P}/h/app`]))).to.deep.equal({
      [`${P}/h/app/db/user`]: 'alice',
      [`${P}/h/app/db/pass word`]: 'p w',
      [`${P}/h/app/cache/size`]: '64',
    });
  });

  it('ignores value types that are not configuration (lists, sets)', async () => {
    await admin.rpush(`${P}/t/list`, 'a', 'b');
    await admin.sadd(`${P}/t/set`, 'a');
    await admin.set(`${P}/t/string`, 's');
    const client = await open();
    expect(Object.fromEntries(await client.getValues([`${P}/t`]))).to.deep.equal({ [`${P}/t/string`]: 's' });
  });

  it('maps keys through -separator: /a/b is stored as a:b, and hash fields become child keys', async () => {
    await admin.set(`${id}:sep:app:db`, 'root');
    await admin.set(`${id}:sep:app:db:user`, 'alice');
    await admin.set(`${id}:sep:app:dbx`, 'sibling');
    await admin.hset(`${id}:sep:app:db:opts`, { ssl: 'on' });
    await admin.set(`${P}/sep/app/db`, 'slash keys are other keys');
    const client = await open({ separator: ':' });
    expect(Object.fromEntries(await client.getValues([`${P}/sep/app/db`]))).to.deep.equal({
      [`${P}/sep/app/db`]: 'root',
      [`${P}/sep/app/db/user`]: 'alice',
      [`${P}/sep/app/db/opts/ssl`]: 'on',
    });
  });

  it('matches glob characters in keys literally', async () => {
    await admin.mset(`${P}/g/we[ir]d*/k`, 'literal', `${P}/g/wei/k`, 'glob match', `${P}/g/weXd*/k`, 'other');
    const client = await open();
    expect(Object.fromEntries(await client.getValues([`${P}/g/we[ir]d*`]))).to.deep.equal({
      [`${P}/g/we[ir]d*/k`]: 'literal',
    });
  });

  it('reads 200+ keys under one key, across several SCAN rounds', async () => {
    const values: Record<string, string> = {};
    for (let i = 0; i < 1500; i++) values[`${P}/many/k${i}`] = `value ${i}`;
    await admin.mset(values);
    const client = await open();
    expect(Object.fromEntries(await client.getValues([`${P}/many`]))).to.deep.equal(values);
  });

  /** Calls of each command the server has served so far (INFO commandstats). */
  const calls = async (): Promise<Record<'get' | 'type' | 'mget' | 'hgetall', number>> => {
    const stats = (await admin.info('commandstats')) as string;
    const count = (cmd: string): number =>
      Number(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
    return {
      get: count('get'),
      type: count('type'),
      mget: count('mget'),
      hgetall: count('hgetall'),
    };
  };
  const served = async (read: () => Promise<unknown>): Promise<Record<string, number>> => {
    const before = await calls();
    await read();
    const after = await calls();
    return Object.fromEntries(
      Object.entries(after).map(([cmd, n]) => [cmd, n - before[cmd as keyof typeof before]]),
    );
  };

  it('reads a tree of strings with one MGET per SCAN page, not a TYPE and a GET per key', async () => {
    const values: Record<string, string> = {};
    for (let i = 0; i < 1500; i++) values[`${P}/mget/k${i}`] = `value ${i}`;
    await admin.mset(values);
    await admin.hset(`${P}/mget/h`, { field: 'hashed' });
    const client = await open();
    let read: KVPairs = new Map();
    const commands = await served(async () => (read = await client.getValues([`${P}/mget`])));
    expect(Object.fromEntries(read)).to.deep.equal({ ...values, [`${P}/mget/h/field`]: 'hashed' });
    // The key's own value (none: GET answers nil), and the hash's fields once MGET answered nil for it.
    expect(commands).to.include({ get: 1, type: 0, hgetall: 1 });
    expect(commands.mget).to.be.within(1, 10);
  });

  it("tells a key's type by asking for its value: GET, then HGETALL on WRONGTYPE, never TYPE", async () => {
    await admin.set(`${P}/own/string`, 's');
    await admin.hset(`${P}/own/hash`, { f: 'field' });
    await admin.rpush(`${P}/own/list`, 'a');
    await admin.set(`${P}/own/list/under`, 'u');
    const client = await open();
    let read: KVPairs = new Map();
    const one = await served(async () => (read = await client.getValues([`${P}/own/string`])));
    expect(Object.fromEntries(read)).to.deep.equal({ [`${P}/own/string`]: 's' });
    expect(one).to.include({ get: 1, type: 0, hgetall: 0, mget: 0 });
    const three = await served(
      async () => (read = await client.getValues([`${P}/own/hash`, `${P}/own/list`, `${P}/own/string`])),
    );
    expect([...read]).to.deep.equal([
      [`${P}/own/hash/f`, 'field'],
      [`${P}/own/list/under`, 'u'],
      [`${P}/own/string`, 's'],
    ]);
    expect(three).to.include({ get: 3, type: 0, hgetall: 2 });
  });

  it('fails a read on any other error than WRONGTYPE (here HGETALL denied by ACL), naming the backend', async () => {
    await admin.rpush(`${P}/acl/list`, 'a');
    await admin.set(`${P}/acl/string`, 's');
    const user = `${id}-nohgetall`;
    await admin.acl('SETUSER', user, 'on', '>nohash-pw', '~*', '+@all', '-hgetall');
    try {
      const client = await open({ username: user, password: 'nohash-pw' });
      const err = await client.getValues([`${P}/acl`]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(BackendError);
      expect((err as Error).message)
        .to.contain('redis')
        .and.to.match(/NOPERM|permission/i);
      expect((err as Error).message).not.to.contain('nohash-pw');
    } finally {
      await admin.acl('DELUSER', user);
    }
  });

  it('merges overlapping bases: a key under both is one entry, with its value', async () => {
    await admin.set(`${P}/ov/a`, 'A');
    await admin.set(`${P}/ov/a/b`, 'B');
    await admin.set(`${P}/ov/a/b/c`, 'C');
    const client = await open();
    const read = await client.getValues([`${P}/ov/a/b`, `${P}/ov/a`]);
    expect(read.size).to.equal(3);
    expect(Object.fromEntries(read)).to.deep.equal({
      [`${P}/ov/a`]: 'A',
      [`${P}/ov/a/b`]: 'B',
      [`${P}/ov/a/b/c`]: 'C',
    });
  });

  it('selects the database given as host:port/db', async () => {
    await admin.select(5);
    await admin.set(`${P}/db/key`, 'in db 5');
    await admin.select(0);
    await admin.set(`${P}/db/key`, 'in db 0');
    const five = await open({ nodes: [`${endpoint}/5`] });
    expect(Object.fromEntries(await five.getValues([`${P}/db/key`]))).to.deep.equal({
      [`${P}/db/key`]: 'in db 5',
    });
    const zero = await open({ nodes: [endpoint] });
    expect(Object.fromEntries(await zero.getValues([`${P}/db/key`]))).to.deep.equal({
      [`${P}/db/key`]: 'in db 0',
    });
  });

  it('uses the next node when the first one is dead', async () => {
    await admin.set(`${P}/fo/key`, 'reached');
    const client = await open({ nodes: [await deadEndpoint(), endpoint] });
    expect(Object.fromEntries(await client.getValues([`${P}/fo/key`]))).to.deep.equal({
      [`${P}/fo/key`]: 'reached',
    });
  });

  it('rejects createClient with a BackendError naming the backend, every node and the cause when nothing listens', async function () {
    this.timeout(15_000);
    const dead = [await deadEndpoint(), `${await deadEndpoint()}/2`];
    const err = await createFailure({ nodes: dead, connectTimeoutMs: 2000 });
    expect(err).to.be.instanceOf(BackendError);
    const backendError = err as BackendError;
    expect(backendError.backend).to.equal('redis');
    expect(backendError.endpoints).to.deep.equal(dead);
    expect(backendError.message).to.contain(dead[0]).and.to.contain(dead[1]).and.to.contain('ECONNREFUSED');
  });

  it('rejects createClient when the database does not exist (host:port/99), naming node and database', async () => {
    const node = `${endpoint}/99`;
    const err = await createFailure({ nodes: [node] });
    expect(err).to.be.instanceOf(BackendError);
    expect((err as BackendError).endpoints).to.deep.equal([node]);
    expect((err as Error).message)
      .to.contain(node)
      .and.to.contain('database 99')
      .and.to.match(/out of range/i);
  });

  it('rejects createClient when the user may not SELECT the database (ACL)', async () => {
    const user = `${id}-nosel`;
    await admin.acl('SETUSER', user, 'on', '>nosel-pw', '~*', '+@all', '-select');
    try {
      const node = `${endpoint}/5`;
      const err = await createFailure({ nodes: [node], username: user, password: 'nosel-pw' });
      expect(err).to.be.instanceOf(BackendError);
      expect((err as Error).message)
        .to.contain(node)
        .and.to.contain('database 5')
        .and.to.contain(`permission denied for user ${user}`)
        .and.not.to.contain('nosel-pw');
    } finally {
      await admin.acl('DELUSER', user);
    }
  });

  it('bin/confd -onetime -node host:port/99 fails with exit 1 instead of rendering database 0', async function () {
    this.timeout(30_000);
    await admin.set(`${P}/app/name`, 'in db 0');
    const ws = await workspace(1);
    try {
      const run = await runConfd([
        '-onetime',
        '-backend',
        'redis',
        '-node',
        `${endpoint}/99`,
        '-prefix',
        P,
        '-confdir',
        ws.root,
      ]);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.contain(`${endpoint}/99`).and.to.contain('database 99');
      expect(await readFile(ws.path('out/r0.conf'), 'utf8').catch(() => 'not written')).to.equal(
        'not written',
      );
    } finally {
      await ws.remove();
    }
  });

  it('bin/confd -onetime with six resources reports an unreachable redis once and exits 1', async function () {
    this.timeout(60_000);
    const silent = await silentEndpoint();
    const ws = await workspace(6);
    try {
      const run = await runConfd([
        '-onetime',
        '-backend',
        'redis',
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
      expect(errors[0]).to.contain(silent.endpoint);
    } finally {
      await ws.remove();
      await silent.close();
    }
  });

  it('leaves nothing holding the process after failing against a silent server', async function () {
    this.timeout(60_000);
    const silent = await silentEndpoint();
    try {
      const run = await createClientInChild(
        'redis',
        options({ nodes: [silent.endpoint], connectTimeoutMs: 1000 }),
        [
          // Give the socket's close a few turns of the event loop (a loaded machine may need more than one),
          // bounded well below ioredis' own 2 s close delay, then list what would keep the process alive.
          `const held = () => process.getActiveResourcesInfo().filter((r) => r !== 'PipeWrap' && r !== 'Timeout');`,
          `for (let i = 0; i < 50 && held().length > 0; i++) await new Promise((ok) => setTimeout(ok, 10));`,
          `console.log(JSON.stringify(process.getActiveResourcesInfo()));`,
        ],
      );
      const [message, resources] = run.stdout.split('\n');
      expect(message)
        .to.match(/^BackendError: redis: cannot connect to /)
        .and.to.contain(silent.endpoint);
      // ioredis' default waits 2 s for a server that never answers to close the socket. The pipes are stdio.
      const held = (JSON.parse(resources ?? '[]') as string[]).filter((r) => r !== 'PipeWrap');
      expect(held).to.deep.equal([]);
      expect(run.exitCode).to.equal(0);
    } finally {
      await silent.close();
    }
  });

  it('lets the process exit on its own after a connection failure, with one message and no stack trace', async function () {
    this.timeout(60_000);
    const run = await createClientInChild(
      'redis',
      options({ nodes: [await deadEndpoint()], connectTimeoutMs: 2000 }),
    );
    expect(run.timedOut, 'process still running: something keeps the event loop alive').to.equal(false);
    expect(run.exitCode).to.equal(0);
    expect(run.stdout).to.match(/^BackendError: redis: cannot connect to /);
    expect(run.stderr).to.equal('');
  });

  describe('with a password (CONFIG SET requirepass, reset afterwards)', () => {
    const PASSWORD = 'redis-Secret!';

    before(async () => {
      await admin.set(`${P}/auth/key`, 'guarded');
      await admin.config('SET', 'requirepass', PASSWORD);
      await admin.auth(PASSWORD);
    });

    after(async () => {
      await admin.config('SET', 'requirepass', '');
    });

    it('reads with -password', async () => {
      const logger = recordingLogger();
      const client = await open({ password: PASSWORD }, logger);
      expect(Object.fromEntries(await client.getValues([`${P}/auth/key`]))).to.deep.equal({
        [`${P}/auth/key`]: 'guarded',
      });
      expect(logger.lines.join('\n')).not.to.contain(PASSWORD);
    });

    it("still takes the password from -client-key when -password is empty (confd's habit)", async () => {
      const client = await open({ clientKey: PASSWORD });
      expect(Object.fromEntries(await client.getValues([`${P}/auth/key`]))).to.deep.equal({
        [`${P}/auth/key`]: 'guarded',
      });
    });

    it('says authentication failed on a wrong password when the client is created, without showing it', async () => {
      const logger = recordingLogger();
      const err = await open({ password: 'wrong-Password' }, logger).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BackendError);
      expect((err as Error).message)
        .to.contain('authentication failed for user default')
        .and.to.contain(endpoint);
      expect((err as Error).message).not.to.contain('wrong-Password');
      expect(logger.lines.join('\n')).not.to.contain('wrong-Password');
    });

    it('says authentication is required when no password is given, when the client is created', async () => {
      const err = await open().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BackendError);
      expect((err as Error).message)
        .to.contain('authentication required')
        .and.to.contain('-password');
    });
  });
});
