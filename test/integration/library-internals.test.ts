/**
 * The workarounds in src/backends reach into private state of node-zookeeper-client (pinned to an exact
 * version in package.json). These tests inspect real instances of the library and fail, naming
 * the workaround that breaks, as soon as an upgrade moves what the workaround touches.
 */
import { createRequire } from 'node:module';
import { expect } from 'chai';
import zookeeper from 'node-zookeeper-client';
import { useStore } from './support/stores.js';

const require = createRequire(import.meta.url);

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
