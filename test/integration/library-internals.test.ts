/**
 * The workarounds in src/backends reach into private state of node-zookeeper-client (pinned to an exact
 * version in package.json). These tests inspect real instances of the library and fail, naming
 * the workaround that breaks, as soon as an upgrade moves what the workaround touches.
 */
import { createRequire } from 'node:module';
import { expect } from 'chai';
import zookeeper from 'node-zookeeper-client';
import { useStore } from './support/stores.js';
import { eventually } from '../support/async.js';

const require = createRequire(import.meta.url);

const STOP_CLIENT =
  'stopping a ZooKeeper client that is not connected (stopClient in src/backends/zookeeper-connection.ts)';
const ZK_WIRE =
  'our own ZooKeeper requests through the library queue (zookeeper-requests.ts, send and decodeOwnReply in zookeeper-connection.ts)';
const ZK_FRAMES = 'whole reply frames (frameReplies in src/backends/zookeeper-connection.ts)';
const ZK_TAP = 'persistent watch notifications (tapNotifications in src/backends/zookeeper-connection.ts)';
const ZK_CORK = 'batched request writes (batchWrites in src/backends/zookeeper-connection.ts)';

/** `value[name]` of an object the typings say nothing about. */
function field(value: unknown, name: string): unknown {
  return (value as Record<string, unknown> | null | undefined)?.[name];
}

function expectFunction(value: unknown, what: string, workaround: string): void {
  expect(typeof value, `${what} is no longer a function: ${workaround} breaks`).to.equal('function');
}

describe('library internals our workarounds rely on', function () {
  this.timeout(60_000);

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

    it('queues, numbers and answers a request object of ours, and routes every notification through watcherManager.emit', async () => {
      const { OP_CODES } = require('node-zookeeper-client/lib/jute/index.js') as {
        OP_CODES: Record<string, number>;
      };
      // The type our requests show the library: a reply it only checks the header of, leaving the body.
      expect(OP_CODES.SET_WATCHES, `OP_CODES.SET_WATCHES moved: ${ZK_WIRE} breaks`).to.equal(101);
      const client = zookeeper.createClient(endpoint, { retries: 0 });
      const key = `/confd-ts-internals-${Date.now()}`;
      try {
        const manager = field(client, 'connectionManager') as Record<string, unknown>;
        for (const method of [
          'queue',
          'registerDataWatcher',
          'registerChildWatcher',
          'registerExistenceWatcher',
        ]) {
          expectFunction(manager[method], `ConnectionManager.${method}`, ZK_WIRE);
        }
        expect(
          manager.pendingQueue,
          `ConnectionManager.pendingQueue is no array: ${ZK_WIRE} breaks`,
        ).to.be.an('array');
        const watcherManager = manager.watcherManager;
        expectFunction(field(watcherManager, 'emit'), 'ConnectionManager.watcherManager.emit', ZK_TAP);
        // Frames: the handler is looked up on the instance (see above); give it chunks of one byte.
        const original = manager.onSocketData as (buffer: Buffer) => void;
        let frames = 0;
        manager.onSocketData = function (this: unknown, buffer: Buffer) {
          for (let i = 0; i < buffer.length; i += 1) original.call(this, buffer.subarray(i, i + 1));
          frames += 1;
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
          frames,
          `ConnectionManager no longer reassembles split replies: ${ZK_FRAMES} breaks`,
        ).to.be.greaterThan(0);
        manager.onSocketData = original;
        const socket = manager.socket as Record<string, unknown>;
        for (const method of ['cork', 'uncork']) expectFunction(socket[method], `socket.${method}`, ZK_CORK);
        expect(
          socket.remotePort,
          `ConnectionManager.socket has no remotePort: the version probe breaks`,
        ).to.be.a('number');
        await new Promise<void>((resolve, reject) =>
          client.create(key, Buffer.from('v'), (err) => (err ? reject(err) : resolve())),
        );
        // A GET_DATA (4) with a watch, framed by us, shown to the library as SET_WATCHES.
        const path = Buffer.from(key);
        const body = Buffer.alloc(4 + path.length + 1);
        body.writeInt32BE(path.length, 0);
        path.copy(body, 4);
        body.writeUInt8(1, 4 + path.length);
        const request = {
          header: { xid: 0, type: 101 },
          payload: null,
          toBuffer() {
            const frame = Buffer.alloc(12 + body.length);
            frame.writeInt32BE(8 + body.length, 0);
            frame.writeInt32BE(this.header.xid, 4);
            frame.writeInt32BE(4, 8);
            body.copy(frame, 12);
            return frame;
          },
        };
        const queued: unknown[] = [];
        const answered = new Promise<unknown>((resolve) => {
          (manager.queue as (r: object, cb: (e: unknown) => void) => void).call(manager, request, resolve);
          queued.push(...(manager.pendingQueue as { request: unknown }[]).map((p) => p.request));
        });
        expect(await answered, `the library failed our request: ${ZK_WIRE} breaks`).to.equal(null);
        expect(
          queued,
          `our request did not wait in ConnectionManager.pendingQueue: ${ZK_WIRE} breaks`,
        ).to.include(request);
        // Its watch fires through watcherManager.emit, with the type and path we read off the event.
        const seen: { type: unknown; path: unknown }[] = [];
        const emit = (watcherManager as { emit: (event: { type: unknown; path: unknown }) => void }).emit;
        (watcherManager as { emit: (event: { type: unknown; path: unknown }) => void }).emit = function (
          this: unknown,
          event,
        ) {
          seen.push({ type: event.type, path: event.path });
          emit.call(this, event);
        };
        await new Promise<void>((resolve, reject) =>
          client.setData(key, Buffer.from('w'), (err) => (err ? reject(err) : resolve())),
        );
        await eventually(() => seen.length > 0, 'the notification');
        expect(
          seen[0],
          `notifications no longer pass watcherManager.emit as {type, path}: ${ZK_TAP} breaks`,
        ).to.deep.equal({ type: 3, path: key });
      } finally {
        await new Promise<void>((resolve) => client.remove(key, () => resolve()));
        client.close();
      }
    });
  });
});
