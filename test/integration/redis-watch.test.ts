import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createClient, type RedisStoreClient } from '../../src/backends/redis.js';
import { missingEventClasses } from '../../src/backends/redis-watch.js';
import type { BackendOptions, PrefixWatch, WatchResult } from '../../src/backends/store-client.js';
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
    // A short -watch-poll, so that polling tests see their change quickly.
    const client = await createClient(options({ nodes: [endpoint], watchPollMs: 100, ...over }), logger);
    opened.push(client);
    return client;
  }

  async function setEvents(flags: string): Promise<void> {
    await admin.config('SET', 'notify-keyspace-events', flags);
  }

  async function numpat(): Promise<number> {
    return Number(await admin.pubsub('NUMPAT'));
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
      const watch = await client.watch(`${P}/u`);
      expect(watch.index).to.be.at.least(1);
      expect(watch.prefix).to.equal(`${P}/u`);
      const waiting = next(watch, [`${P}/u/app`]);
      await admin.set(key, 'v2');
      const result = await waiting;
      expect(result.changedKeys).to.deep.equal([key]);
      expect(result.index).to.be.greaterThan(watch.index);
      expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({ [key]: 'v2' });
    });

    it('reports a key created after arming and a deleted key', async () => {
      await admin.set(`${P}/cd/old`, 'x');
      const client = await open();
      const watch = await client.watch(`${P}/cd`);
      await admin.set(`${P}/cd/new/leaf`, 'born');
      let result = await next(watch, [`${P}/cd`]);
      expect(result.changedKeys).to.deep.equal([`${P}/cd/new/leaf`]);
      const index = result.index;
      await admin.del(`${P}/cd/old`);
      result = await next(watch, [`${P}/cd`], index);
      expect(result.changedKeys).to.deep.equal([`${P}/cd/old`]);
      expect(result.index).to.be.greaterThan(index);
      expect(Object.fromEntries(await client.getValues([`${P}/cd`]))).to.deep.equal({
        [`${P}/cd/new/leaf`]: 'born',
      });
    });

    it('keeps what changed between two calls', async () => {
      const client = await open();
      const watch = await client.watch(`${P}/gap`);
      await admin.set(`${P}/gap/a`, '1');
      await admin.set(`${P}/gap/b`, '2');
      await eventually(
        async () => (await next(watch)).changedKeys?.length === 2,
        'both notifications to arrive',
      );
      const result = await next(watch);
      expect(result.changedKeys).to.have.members([`${P}/gap/a`, `${P}/gap/b`]);
      expect(result.index).to.equal(watch.index + 2);
    });

    it('respects the path boundary: a watch on /app/db never reports /app/dbx', async () => {
      const client = await open();
      const root = `${P}/pb/app/db`;
      const watch = await client.watch(root);
      const waiting = next(watch, [root]);
      await admin.set(`${P}/pb/app/dbx`, 'sibling');
      await admin.set(`${P}/pb/app/db-x`, 'sibling');
      await admin.set(`${P}/pb/app/db/user`, 'own');
      expect(await waiting).to.deep.equal({ index: watch.index + 1, changedKeys: [`${P}/pb/app/db/user`] });
    });

    it('maps names back through -separator, and reports a changed hash by its key, waking callers of its fields', async () => {
      const client = await open({ separator: ':' });
      const root = `${P}/sep`;
      const field = `${P}/sep/db/user`;
      const watch = await client.watch(root);
      const waiting = next(watch, [field]);
      await admin.set(`${id}:sepx:db`, 'sibling');
      await admin.hset(`${id}:sep:db`, 'user', 'alice');
      const result = await waiting;
      expect(result.changedKeys).to.deep.equal([`${P}/sep/db`]);
      expect(Object.fromEntries(await client.getValues([`${P}/sep/db`]))).to.deep.equal({ [field]: 'alice' });
    });

    it('loses none of 200 rapid updates to one key: the index counts all 200, the last value is read', async () => {
      const client = await open();
      const key = `${P}/rapid/key`;
      const watch = await client.watch(`${P}/rapid`);
      let index = watch.index;
      const writer = (async () => {
        for (let i = 0; i < 200; i++) await admin.set(key, `value ${i}`);
      })();
      const reported = new Set<string>();
      while (index < watch.index + 200) {
        const result = await next(watch, [key], index, AbortSignal.timeout(20_000));
        expect(result.index).to.be.greaterThan(index);
        for (const k of result.changedKeys ?? ['(resync)']) reported.add(k);
        index = result.index;
      }
      await writer;
      expect(index).to.equal(watch.index + 200);
      expect([...reported]).to.deep.equal([key]);
      expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({ [key]: 'value 199' });
    });

    it('subscribes ONE pattern for 50 holders of a prefix (PUBSUB NUMPAT), and drops it with the last release', async () => {
      await eventually(async () => (await numpat()) === 0, 'patterns of earlier tests to be dropped');
      const client = await open();
      const root = `${P}/fifty`;
      const keys = Array.from({ length: 50 }, (_, i) => `${root}/k${i}`);
      const holders = await Promise.all(keys.map(() => client.watch(root)));
      const index = Math.max(...holders.map((w) => w.index));
      const waiting = keys.map((k, i) => next(holders[i] as PrefixWatch, [k], index));
      expect(await numpat()).to.equal(1);
      for (const k of keys) await admin.set(k, 'set');
      for (const [i, result] of (await Promise.all(waiting)).entries()) {
        expect(result.changedKeys).to.deep.equal([keys[i]]);
      }
      // A second prefix is a second pattern on the same subscriber connection.
      const another = await client.watch(`${P}/another`);
      expect(await numpat()).to.equal(2);
      const subscribers = ((await admin.client('LIST')) as string)
        .split('\n')
        .filter((line) => / psub=[1-9]/.test(line));
      expect(subscribers).to.have.length(1);
      // All holders of the first prefix but one let go: its pattern stays.
      for (const watch of holders.slice(1)) watch.release();
      expect(await numpat()).to.equal(2);
      holders[0]?.release();
      await eventually(
        async () => (await numpat()) === 1,
        'the pattern of the released prefix to be dropped',
      );
      // The other prefix is still watched.
      const changed = next(another);
      await admin.set(`${P}/another/k`, 'v');
      expect((await changed).changedKeys).to.deep.equal([`${P}/another/k`]);
      another.release();
      await eventually(async () => (await numpat()) === 0, 'every pattern to be dropped');
      // Armed again, the prefix gets its pattern back.
      const again = await client.watch(root);
      expect(await numpat()).to.equal(1);
      const later = next(again, [root]);
      await admin.set(`${root}/k0`, 'again');
      expect((await later).changedKeys).to.deep.equal([`${root}/k0`]);
      await client.close();
      await eventually(async () => (await numpat()) === 0, 'the patterns to be dropped on close');
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
      await admin.set(`${root}/k`, 'v');
      expect((await staying).changedKeys).to.deep.equal([`${root}/k`]);
    });

    it('fails the watch with a BackendError when Redis is killed; a fresh watch after the restart reads on', async function () {
      this.timeout(120_000);
      const logger = recordingLogger();
      const client = await open({}, logger);
      const root = `${P}/restart`;
      const key = `${root}/key`;
      const watch = await client.watch(root);
      const waiting = next(watch, [key]).catch((e: unknown) => e);
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
      // Written while the client has no working watch.
      await admin.set(key, 'changed after restart');
      // The failed watch stays failed.
      expect(await next(watch, [key]).catch((e: unknown) => e)).to.be.instanceOf(BackendError);
      watch.release();
      let fresh: PrefixWatch | undefined;
      await eventually(async () => {
        fresh = await client.watch(root).catch(() => undefined);
        return fresh !== undefined;
      }, 'a fresh watch to arm');
      expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({
        [key]: 'changed after restart',
      });
      // An index from before the outage means nothing to the fresh watch: the caller is told to read everything.
      const stale = await next(fresh!, [key], watch.index);
      expect(stale.changedKeys).to.equal(undefined);
      const live = next(fresh!, [key]);
      await admin.set(key, 'live again');
      expect((await live).changedKeys).to.deep.equal([key]);
      expect(await numpat()).to.equal(1);
    });

    it('rejects arming with a BackendError naming the node when Redis can no longer be reached', async () => {
      const proxy = await tcpProxy(endpoint);
      const client = await open({ nodes: [proxy.endpoint], connectTimeoutMs: 1500 });
      await proxy.shut();
      const err = await client.watch(`${P}/dead`).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BackendError);
      expect((err as Error).message).to.contain(proxy.endpoint);
    });

    it('rejects pending calls with a BackendError on close, and later arms too', async () => {
      const client = await open();
      const watch = await client.watch(`${P}/closing`);
      const waiting = next(watch).catch((e: unknown) => e);
      await client.close();
      expect(await waiting).to.be.instanceOf(BackendError);
      expect(await client.watch(`${P}/closing`).catch((e: unknown) => e)).to.be.instanceOf(BackendError);
    });
  });

  describe('with keyspace notifications off', () => {
    it('warns once with the setting to change and the -watch-poll period, subscribes nothing, and sees changes by polling', async () => {
      await setEvents('');
      const logger = recordingLogger();
      const client = await open({}, logger);
      const root = `${P}/poll`;
      const key = `${root}/key`;
      await admin.set(key, 'v1');
      const before = await numpat();
      const watch = await client.watch(root);
      const warnings = logger.messages('warn');
      expect(warnings).to.have.length(1);
      expect(warnings[0])
        .to.contain('notify-keyspace-events KA')
        .and.to.contain(endpoint)
        .and.to.contain('every 0.1 s')
        .and.to.contain('-watch-poll');
      expect(await numpat()).to.equal(before);
      // A second prefix polls too, without a second warning.
      await client.watch(`${P}/poll-other`);
      expect(logger.messages('warn')).to.have.length(1);
      const waiting = next(watch, [key]);
      await admin.set(key, 'v2');
      await admin.set(`${root}/created`, 'new');
      const result = await waiting;
      expect(result.index).to.be.greaterThan(watch.index);
      expect(result.changedKeys).to.include(key);
      expect(Object.fromEntries(await client.getValues([key]))).to.deep.equal({ [key]: 'v2' });
      await admin.del(`${root}/created`);
      let seen = result.index;
      await eventually(async () => {
        const r = await next(watch, [root], seen);
        seen = r.index;
        return r.changedKeys?.includes(`${root}/created`) === true;
      }, 'the deletion to be seen by polling');
    });

    it('polls every second by default (-watch-poll)', async () => {
      await setEvents('');
      const logger = recordingLogger();
      const client = await createClient(options({ nodes: [endpoint] }), logger);
      opened.push(client);
      await client.watch(`${P}/default-poll`);
      expect(logger.messages('warn')[0]).to.contain('every 1 s');
    });

    it('polls when notifications lack a needed class (here: no hash events)', async () => {
      await setEvents('Kg$xe');
      const logger = recordingLogger();
      const client = await open({}, logger);
      await client.watch(`${P}/partial`);
      expect(logger.messages('warn').some((l) => l.includes('lacking h'))).to.equal(true);
    });

    it('polls, with a warning, when the user may not read the configuration (CONFIG denied by ACL)', async () => {
      const user = `${id}-user`;
      await admin.acl('SETUSER', user, 'on', '>secret-pw', '~*', '&*', '+@all', '-config');
      try {
        const logger = recordingLogger();
        const client = await open({ username: user, password: 'secret-pw' }, logger);
        const root = `${P}/acl`;
        const watch = await client.watch(root);
        const warning = logger.messages('warn')[0];
        expect(warning).to.contain('cannot read notify-keyspace-events');
        expect(logger.lines.join('\n')).not.to.contain('secret-pw');
        const waiting = next(watch);
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
