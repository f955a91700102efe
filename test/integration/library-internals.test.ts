/**
 * The workarounds in src/backends reach into private state of etcd3 and node-zookeeper-client (both pinned
 * to exact versions in package.json). These tests inspect real instances of each library and fail, naming
 * the workaround that breaks, as soon as an upgrade moves what the workaround touches.
 */
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { ChannelCredentials } from '@grpc/grpc-js';
import { Etcd3, type Watcher } from 'etcd3';
import zookeeper from 'node-zookeeper-client';
import { disableServerVerification } from '../../src/backends/etcd-tls.js';
import { useStore } from './support/stores.js';

const require = createRequire(import.meta.url);

const ATTACH_QUEUE = 'the etcd3 attach-queue workaround (releaseAttachQueue in src/backends/etcd-watch.ts)';
const PINNED_START = 'the pinned watch start revision (pinStartRevision in src/backends/etcd-watch.ts)';
const INSECURE = '-client-insecure (disableServerVerification in src/backends/etcd-tls.ts)';
const STOP_CLIENT =
  'stopping a ZooKeeper client that is not connected (stopClient in src/backends/zookeeper-session.ts)';

/** `value[name]` of an object the typings say nothing about. */
function field(value: unknown, name: string): unknown {
  return (value as Record<string, unknown> | null | undefined)?.[name];
}

function expectFunction(value: unknown, what: string, workaround: string): void {
  expect(typeof value, `${what} is no longer a function: ${workaround} breaks`).to.equal('function');
}

describe('library internals our workarounds rely on', function () {
  this.timeout(60_000);

  describe(`etcd3 ${String((require('etcd3/package.json') as { version: string }).version)}`, () => {
    let endpoint: string;
    let etcd: Etcd3;

    before(async function () {
      this.timeout(180_000);
      ({ endpoint } = await useStore('etcd'));
    });

    beforeEach(() => {
      etcd = new Etcd3({ hosts: `http://${endpoint}` });
    });

    const watchers: Watcher[] = [];

    afterEach(async () => {
      // Cancelled before closing: etcd3 would otherwise keep re-opening their stream after close.
      await Promise.all(watchers.splice(0).map((w) => w.cancel().catch(() => undefined)));
      etcd.close();
    });

    /** A watcher on a key of its own (from the current revision), once etcd accepted it. */
    async function connectedWatcher(key = `/confd-ts-internals/${Date.now()}`): Promise<Watcher> {
      const watcher = etcd.watch().key(key).watcher();
      watchers.push(watcher);
      await new Promise<void>((resolve, reject) => {
        watcher.once('connected', () => resolve());
        watcher.once('error', reject);
      });
      return watcher;
    }

    it('keeps the attach queue of a watch stream where releaseAttachQueue looks for it', async () => {
      const watcher = await connectedWatcher();
      const manager = field(watcher, 'manager');
      expect(manager, `Watcher.manager is gone: ${ATTACH_QUEUE} breaks`).to.be.an('object');
      const attach = field(manager, 'queue');
      expect(attach, `WatchManager.queue is gone: ${ATTACH_QUEUE} breaks`).to.be.an('object');
      expect(field(attach, 'queue'), `AttachQueue.queue is no array: ${ATTACH_QUEUE} breaks`).to.be.an(
        'array',
      );
      expectFunction(field(attach, 'readQueue'), 'AttachQueue.readQueue', ATTACH_QUEUE);
      // The accepted watcher left the queue: only a refused one stays at its head.
      expect(
        field(attach, 'queue'),
        `AttachQueue no longer drops accepted watchers: ${ATTACH_QUEUE}`,
      ).not.to.include(watcher);
    });

    it('keeps the revision a watch resumes from in Watcher.request.start_revision, moved with every response', async () => {
      const key = `/confd-ts-internals/request-${Date.now()}`;
      const watcher = await connectedWatcher(key);
      const request = field(watcher, 'request');
      expect(request, `Watcher.request is gone: ${PINNED_START} breaks`).to.be.an('object');
      const data = new Promise<unknown>((resolve, reject) => {
        watcher.once('data', resolve);
        watcher.once('error', reject);
      });
      const revision = Number((await etcd.put(key).value('v')).header.revision);
      await data;
      // What the pin undoes: etcd3 set the revision to resume from to the last header's + 1.
      expect(
        Number(field(request, 'start_revision')),
        `etcd3 no longer keeps the resume revision in Watcher.request.start_revision: ${PINNED_START} breaks`,
      ).to.equal(revision + 1);
    });

    it('keeps the channel credentials where -client-insecure swaps them, used only when a call is made', async () => {
      const pool = field(etcd, 'pool');
      expect(pool, `Etcd3.pool is gone: ${INSECURE} breaks`).to.be.an('object');
      const hosts = field(pool, 'hosts');
      expect(hosts, `ConnectionPool.hosts is no array: ${INSECURE} breaks`).to.be.an('array');
      expect((hosts as unknown[]).length).to.equal(1);
      for (const host of hosts as unknown[]) {
        expect(
          field(host, 'channelCredentials'),
          `Host.channelCredentials is gone: ${INSECURE} breaks`,
        ).to.be.instanceOf(ChannelCredentials);
        // Service clients are built from channelCredentials on first use, so a swap before it takes effect.
        expect(
          field(host, 'cachedServices'),
          `Host builds its clients up front: ${INSECURE} would not apply`,
        ).to.deep.equal({});
      }
      const authenticator = field(pool, 'authenticator');
      expect(
        field(authenticator, 'credentials'),
        `Authenticator.credentials is gone: ${INSECURE} breaks`,
      ).to.be.instanceOf(ChannelCredentials);
    });

    it('takes the credentials -client-insecure puts in, for every host and for authentication', async () => {
      const pool = field(etcd, 'pool');
      const before = (field(pool, 'hosts') as unknown[]).map((host) => field(host, 'channelCredentials'));
      await disableServerVerification(etcd, { insecure: true }, 'etcd', [`https://${endpoint}`]);
      const after = (field(pool, 'hosts') as unknown[]).map((host) => field(host, 'channelCredentials'));
      const authCredentials = field(field(pool, 'authenticator'), 'credentials');
      expect(after.every((c, i) => c instanceof ChannelCredentials && c !== before[i])).to.equal(true);
      expect(after.every((c) => c === authCredentials)).to.equal(true);
    });
  });

  describe(`node-zookeeper-client ${String((require('node-zookeeper-client/package.json') as { version: string }).version)}`, () => {
    let endpoint: string;

    before(async function () {
      this.timeout(180_000);
      ({ endpoint } = await useStore('zookeeper'));
    });

    it('keeps the connection manager stopClient takes apart, with the states it tells apart', async () => {
      const { STATES } = require('node-zookeeper-client/lib/ConnectionManager.js') as {
        STATES: Record<string, number>;
      };
      // stopClient closes a client in these states properly, and takes any other apart.
      expect(STATES.CONNECTED, `ConnectionManager.STATES.CONNECTED moved: ${STOP_CLIENT} breaks`).to.equal(2);
      expect(
        STATES.CONNECTED_READ_ONLY,
        `ConnectionManager.STATES.CONNECTED_READ_ONLY moved: ${STOP_CLIENT} breaks`,
      ).to.equal(3);

      const client = zookeeper.createClient(endpoint, { retries: 0 });
      try {
        const manager = field(client, 'connectionManager');
        expect(manager, `Client.connectionManager is gone: ${STOP_CLIENT} breaks`).to.be.an('object');
        expect(field(manager, 'state'), `ConnectionManager.state is gone: ${STOP_CLIENT} breaks`).to.equal(
          STATES.DISCONNECTED,
        );
        expect(
          manager,
          `ConnectionManager.connectTimeoutHandler is gone: ${STOP_CLIENT} breaks`,
        ).to.have.property('connectTimeoutHandler');
        for (const method of ['connect', 'onSocketConnected', 'onSocketData', 'onSocketClosed']) {
          expectFunction(field(manager, method), `ConnectionManager.${method}`, STOP_CLIENT);
        }
        // The handlers are looked up on the instance when a socket is made: replacing them there reaches
        // the sockets opened later, which is how stopClient disarms a connect attempt still under way.
        let seen = 0;
        const target = manager as Record<string, (...args: unknown[]) => unknown>;
        const original = target.onSocketConnected as (...args: unknown[]) => unknown;
        target.onSocketConnected = function (this: unknown, ...args: unknown[]) {
          seen += 1;
          return original.apply(this, args);
        };
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`cannot reach ${endpoint}`)), 20_000);
          client.once('connected', () => {
            clearTimeout(timer);
            resolve();
          });
          client.connect();
        });
        expect(
          seen,
          `ConnectionManager no longer calls the instance's handlers: ${STOP_CLIENT} breaks`,
        ).to.equal(1);
        expect(field(manager, 'state')).to.equal(STATES.CONNECTED);
        expectFunction(
          field(field(manager, 'socket'), 'destroy'),
          'ConnectionManager.socket.destroy',
          STOP_CLIENT,
        );
      } finally {
        client.close();
      }
    });
  });
});
