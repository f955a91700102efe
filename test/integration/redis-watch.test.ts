import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createClient, type RedisStoreClient } from '../../src/backends/redis.js';
import { missingEventClasses } from '../../src/backends/redis-watch.js';
import type { BackendOptions, WatchResult } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import { restartStore, useStore } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { recordingLogger } from '../support/loggers.js';
import { eventually, never } from '../support/async.js';
import { tcpProxy } from '../support/net.js';

const options = (over: Partial<BackendOptions>): BackendOptions =>
  backendOptions({ backend: 'redis', connectTimeoutMs: 3000, ...over });

describe('redis watch (real redis)', function () {
  this.timeout(60_000);
  let endpoint: string;
  let admin: Redis;
  let originalEvents: string;
  const opened: RedisStoreClient[] = [];
  const id = `confd-ts-watch-${randomBytes(4).toString('hex')}`;
  const P = `/${id}`;

  function connectAdmin(): Promise<Redis> {
    const [host, port] = endpoint.split(':');
    const conn = new Redis({ host, port: Number(port), lazyConnect: true, maxRetriesPerRequest: 1 });
    conn.on('error', () => undefined);
    return conn.connect().then(() => conn);
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

  async function setEvents(flags: string): Promise<void> {
    await admin.config('SET', 'notify-keyspace-events', flags);
  }

  async function numpat(): Promise<number> {
    return Number(await admin.pubsub('NUMPAT'));
  }

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('redis'));
    admin = await connectAdmin();
    originalEvents = ((await admin.config('GET', 'notify-keyspace-events')) as string[])[1] ?? '';
  });

  beforeEach(async () => {
    await setEvents('KA');
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });

  after(async () => {
    if (!admin) return;
    await setEvents(originalEvents);
    const names = await admin.keys(`*${id}*`);
    if (names.length > 0) await admin.del(...names);
    admin.disconnect();
  });

  describe('with keyspace notifications on', () => {
    it('arms with an index and reports an update with its key', async () => {
      const client = await open();
      const key = `${P}/u/app/db`;
      const armed = await client.watchPrefix(`${P}/u`, [`${P}/u/app`], { waitIndex: 0, signal: never() });
      expect(armed.index).to.be.at.least(1);
      expect(armed.changedKeys).to.equal(undefined);
      const waiting = client.watchPrefix(`${P}/u`, [`${P}/u/app`], {
        waitIndex: armed.index,
        signal: never(),
      });
      await admin.set(key, 'v2');
      const result = await waiting;
      expect(result.changedKeys).to.deep.equal([key]);
      expect(result.index).to.be.greaterThan(armed.index);
      expect(await client.getValues([key])).to.deep.equal({ [key]: 'v2' });
    });

    it('reports a key created after arming and a deleted key', async () => {
      await admin.set(`${P}/cd/old`, 'x');
      const client = await open();
      let { index } = await client.watchPrefix(`${P}/cd`, [`${P}/cd`], { waitIndex: 0, signal: never() });
      await admin.set(`${P}/cd/new/leaf`, 'born');
      let result = await client.watchPrefix(`${P}/cd`, [`${P}/cd`], { waitIndex: index, signal: never() });
      expect(result.changedKeys).to.deep.equal([`${P}/cd/new/leaf`]);
      index = result.index;
      await admin.del(`${P}/cd/old`);
      result = await client.watchPrefix(`${P}/cd`, [`${P}/cd`], { waitIndex: index, signal: never() });
      expect(result.changedKeys).to.deep.equal([`${P}/cd/old`]);
      expect(result.index).to.be.greaterThan(index);
      expect(await client.getValues([`${P}/cd`])).to.deep.equal({ [`${P}/cd/new/leaf`]: 'born' });
    });

    it('keeps what changed between two calls', async () => {
      const client = await open();
      const armed = await client.watchPrefix(`${P}/gap`, [], { waitIndex: 0, signal: never() });
      await admin.set(`${P}/gap/a`, '1');
      await admin.set(`${P}/gap/b`, '2');
      await eventually(async () => {
        const r = await client.watchPrefix(`${P}/gap`, [], { waitIndex: armed.index, signal: never() });
        return r.changedKeys?.length === 2;
      }, 'both notifications to arrive');
      const result = await client.watchPrefix(`${P}/gap`, [], { waitIndex: armed.index, signal: never() });
      expect(result.changedKeys).to.have.members([`${P}/gap/a`, `${P}/gap/b`]);
      expect(result.index).to.equal(armed.index + 2);
    });

    it('respects the path boundary: a watch on /app/db never reports /app/dbx', async () => {
      const client = await open();
      const root = `${P}/pb/app/db`;
      const { index } = await client.watchPrefix(root, [root], { waitIndex: 0, signal: never() });
      const waiting = client.watchPrefix(root, [root], { waitIndex: index, signal: never() });
      await admin.set(`${P}/pb/app/dbx`, 'sibling');
      await admin.set(`${P}/pb/app/db-x`, 'sibling');
      await admin.set(`${P}/pb/app/db/user`, 'own');
      const result = await waiting;
      expect(result).to.deep.equal({ index: index + 1, changedKeys: [`${P}/pb/app/db/user`] });
    });

    it('maps names back through -separator, and reports a changed hash by its key, waking callers of its fields', async () => {
      const client = await open({ separator: ':' });
      const root = `${P}/sep`;
      const field = `${P}/sep/db/user`;
      const { index } = await client.watchPrefix(root, [field], { waitIndex: 0, signal: never() });
      const waiting = client.watchPrefix(root, [field], { waitIndex: index, signal: never() });
      await admin.set(`${id}:sepx:db`, 'sibling');
      await admin.hset(`${id}:sep:db`, 'user', 'alice');
      const result = await waiting;
      expect(result.changedKeys).to.deep.equal([`${P}/sep/db`]);
      expect(await client.getValues([`${P}/sep/db`])).to.deep.equal({ [field]: 'alice' });
    });

    it('loses none of 200 rapid updates to one key: the index counts all 200, the last value is read', async () => {
      const client = await open();
      const key = `${P}/rapid/key`;
      const armed = await client.watchPrefix(`${P}/rapid`, [key], { waitIndex: 0, signal: never() });
      let index = armed.index;
      const writer = (async () => {
        for (let i = 0; i < 200; i++) await admin.set(key, `value ${i}`);
      })();
      const reported = new Set<string>();
      while (index < armed.index + 200) {
        const result: WatchResult = await client.watchPrefix(`${P}/rapid`, [key], {
          waitIndex: index,
          signal: AbortSignal.timeout(20_000),
        });
        expect(result.index).to.be.greaterThan(index);
        for (const k of result.changedKeys ?? ['(resync)']) reported.add(k);
        index = result.index;
      }
      await writer;
      expect(index).to.equal(armed.index + 200);
      expect([...reported]).to.deep.equal([key]);
      expect(await client.getValues([key])).to.deep.equal({ [key]: 'value 199' });
    });

    it('subscribes ONE pattern for 50 callers on a prefix (PUBSUB NUMPAT), and drops it on close', async () => {
      await eventually(async () => (await numpat()) === 0, 'patterns of earlier tests to be dropped');
      const client = await open();
      const root = `${P}/fifty`;
      const keys = Array.from({ length: 50 }, (_, i) => `${root}/k${i}`);
      const armed = await Promise.all(
        keys.map((k) => client.watchPrefix(root, [k], { waitIndex: 0, signal: never() })),
      );
      const index = Math.max(...armed.map((a) => a.index));
      const waiting = keys.map((k) => client.watchPrefix(root, [k], { waitIndex: index, signal: never() }));
      expect(await numpat()).to.equal(1);
      for (const k of keys) await admin.set(k, 'set');
      for (const [i, result] of (await Promise.all(waiting)).entries()) {
        expect(result.changedKeys).to.deep.equal([keys[i]]);
      }
      // A second prefix is a second pattern on the same subscriber connection.
      await client.watchPrefix(`${P}/another`, [], { waitIndex: 0, signal: never() });
      expect(await numpat()).to.equal(2);
      const subscribers = ((await admin.client('LIST')) as string)
        .split('\n')
        .filter((line) => / psub=[1-9]/.test(line));
      expect(subscribers).to.have.length(1);
      await client.close();
      await eventually(async () => (await numpat()) === 0, 'the patterns to be dropped on close');
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
      await admin.set(`${root}/k`, 'v');
      expect((await staying).changedKeys).to.deep.equal([`${root}/k`]);
    });

    it('rejects waiting callers with a BackendError when Redis is killed, and works again after the restart', async function () {
      this.timeout(120_000);
      const logger = recordingLogger();
      const client = await open({}, logger);
      const root = `${P}/restart`;
      const key = `${root}/key`;
      const { index } = await client.watchPrefix(root, [key], { waitIndex: 0, signal: never() });
      const waiting = client
        .watchPrefix(root, [key], { waitIndex: index, signal: never() })
        .catch((e: unknown) => e);
      const restarted = restartStore('redis', 1);
      const err = await waiting;
      expect(err).to.be.instanceOf(BackendError);
      expect((err as BackendError).backend).to.equal('redis');
      expect((err as Error).message).to.contain(endpoint);
      await restarted;
      admin.disconnect();
      admin = await connectAdmin();
      // A restarted server starts from its configuration file: notifications are off again until set.
      await setEvents('KA');
      await admin.set(key, 'changed after restart');
      let rearmed: WatchResult | undefined;
      await eventually(async () => {
        rearmed = await client
          .watchPrefix(root, [key], { waitIndex: 0, signal: never() })
          .catch(() => undefined);
        return rearmed !== undefined;
      }, 'the watch to arm again');
      expect(await client.getValues([key])).to.deep.equal({ [key]: 'changed after restart' });
      // An index from before the outage cannot be trusted: the caller is told to read everything.
      const stale = await client.watchPrefix(root, [key], { waitIndex: index, signal: never() });
      expect(stale.changedKeys).to.equal(undefined);
      const live = client.watchPrefix(root, [key], { waitIndex: rearmed!.index, signal: never() });
      await admin.set(key, 'live again');
      expect((await live).changedKeys).to.deep.equal([key]);
      expect(await numpat()).to.equal(1);
    });

    it('rejects with a BackendError naming the node when Redis can no longer be reached', async () => {
      const proxy = await tcpProxy(endpoint);
      const client = await open({ nodes: [proxy.endpoint], connectTimeoutMs: 1500 });
      await proxy.shut();
      const err = await client
        .watchPrefix(`${P}/dead`, [], { waitIndex: 0, signal: never() })
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BackendError);
      expect((err as Error).message).to.contain(proxy.endpoint);
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
  });

  describe('with keyspace notifications off', () => {
    it('warns with the setting to change, subscribes nothing, and still sees a change by polling', async () => {
      await setEvents('');
      const logger = recordingLogger();
      const client = await open({}, logger);
      const root = `${P}/poll`;
      const key = `${root}/key`;
      await admin.set(key, 'v1');
      const before = await numpat();
      const { index } = await client.watchPrefix(root, [key], { waitIndex: 0, signal: never() });
      const warnings = logger.messages('warn');
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.contain('notify-keyspace-events KA').and.to.contain(endpoint);
      expect(await numpat()).to.equal(before);
      const waiting = client.watchPrefix(root, [key], { waitIndex: index, signal: never() });
      await admin.set(key, 'v2');
      await admin.set(`${root}/created`, 'new');
      const result = await waiting;
      expect(result.index).to.be.greaterThan(index);
      expect(result.changedKeys).to.include(key);
      expect(await client.getValues([key])).to.deep.equal({ [key]: 'v2' });
      await admin.del(`${root}/created`);
      let seen = result.index;
      await eventually(async () => {
        const r = await client.watchPrefix(root, [root], { waitIndex: seen, signal: never() });
        seen = r.index;
        return r.changedKeys?.includes(`${root}/created`) === true;
      }, 'the deletion to be seen by polling');
    });

    it('polls when notifications lack a needed class (here: no hash events)', async () => {
      await setEvents('Kg$xe');
      const logger = recordingLogger();
      const client = await open({}, logger);
      await client.watchPrefix(`${P}/partial`, [], { waitIndex: 0, signal: never() });
      expect(logger.messages('warn').some((l) => l.includes('lacking h'))).to.equal(true);
    });

    it('polls, with a warning, when the user may not read the configuration (CONFIG denied by ACL)', async () => {
      const user = `${id}-user`;
      await admin.acl('SETUSER', user, 'on', '>secret-pw', '~*', '&*', '+@all', '-config');
      try {
        const logger = recordingLogger();
        const client = await open({ username: user, password: 'secret-pw' }, logger);
        const root = `${P}/acl`;
        const { index } = await client.watchPrefix(root, [], { waitIndex: 0, signal: never() });
        const warning = logger.messages('warn')[0];
        expect(warning).to.contain('cannot read notify-keyspace-events');
        expect(logger.lines.join('\n')).not.to.contain('secret-pw');
        const waiting = client.watchPrefix(root, [], { waitIndex: index, signal: never() });
        await admin.set(`${root}/k`, 'v');
        expect((await waiting).changedKeys).to.deep.equal([`${root}/k`]);
      } finally {
        await admin.acl('DELUSER', user);
      }
    });
  });

  it('knows which notify-keyspace-events values suffice', () => {
    expect(missingEventClasses('AKE')).to.deep.equal([]);
    expect(missingEventClasses('K$ghxe')).to.deep.equal([]);
    expect(missingEventClasses('')).to.deep.equal(['K', 'g', '$', 'h', 'x', 'e']);
    expect(missingEventClasses('EA')).to.deep.equal(['K']);
  });
});
