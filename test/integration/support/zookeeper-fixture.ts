import zookeeper from 'node-zookeeper-client';
import type { Client as ZkLibClient } from 'node-zookeeper-client';
import { stopClient } from '../../../src/backends/zookeeper-connection.js';

/**
 * How long one fixture request may take. node-zookeeper-client has no request deadline of its own, and a
 * request queued while it is disconnected is never answered if the session is then lost (its queue of
 * unsent requests is not failed on expiry), or while a reconnect waits on a handshake the server never
 * answers (the library sets no timeout then). Without this, such a request hangs the test until mocha's
 * timeout, and every later step of the suite that uses the fixture with it.
 */
const FIXTURE_REQUEST_TIMEOUT_MS = 15_000;

/** A fixture request got no answer in time: the fixture client is wedged, connect a new one. */
export class FixtureTimeout extends Error {}

/** The store's own client, promisified, to load and change nodes independently of the code under test. */
export class ZkFixture {
  private constructor(readonly client: ZkLibClient) {}

  static async connect(endpoint: string, auth?: string): Promise<ZkFixture> {
    const client = zookeeper.createClient(endpoint, { retries: 2 });
    if (auth) client.addAuthInfo('digest', Buffer.from(auth));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Stops the library's endless reconnect attempts, so a failed fixture leaves nothing running.
        stopClient(client);
        reject(new Error(`fixture client cannot reach ${endpoint}`));
      }, 10_000);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.connect();
    });
    return new ZkFixture(client);
  }

  /** Creates the node and any missing parents (with empty data). */
  async put(path: string, value: string): Promise<void> {
    const parent = path.slice(0, path.lastIndexOf('/'));
    if (parent !== '') {
      await this.bounded(
        `mkdirp ${parent}`,
        new Promise<void>((resolve, reject) =>
          this.client.mkdirp(parent, (err) => (err ? reject(err) : resolve())),
        ),
      );
    }
    await this.bounded(
      `create ${path}`,
      new Promise<void>((resolve, reject) =>
        this.client.create(path, Buffer.from(value), (err) => {
          if (!err) return resolve();
          if ((err as { code?: number }).code !== zookeeper.Exception.NODE_EXISTS) return reject(err);
          this.client.setData(path, Buffer.from(value), (setErr) => (setErr ? reject(setErr) : resolve()));
        }),
      ),
    );
  }

  async setData(path: string, value: string): Promise<void> {
    await this.bounded(
      `setData ${path}`,
      new Promise<void>((resolve, reject) =>
        this.client.setData(path, Buffer.from(value), (err) => (err ? reject(err) : resolve())),
      ),
    );
  }

  async remove(path: string): Promise<void> {
    const children = await this.bounded(
      `getChildren ${path}`,
      new Promise<string[]>((resolve, reject) =>
        this.client.getChildren(path, (err, list) => {
          if (!err) return resolve(list);
          if ((err as { code?: number }).code === zookeeper.Exception.NO_NODE) return resolve([]);
          reject(err);
        }),
      ),
    );
    await Promise.all(children.map((child) => this.remove(`${path}/${child}`)));
    await this.bounded(
      `remove ${path}`,
      new Promise<void>((resolve, reject) =>
        this.client.remove(path, (err) =>
          !err || (err as { code?: number }).code === zookeeper.Exception.NO_NODE ? resolve() : reject(err),
        ),
      ),
    );
  }

  /** `request`, or a FixtureTimeout once it took FIXTURE_REQUEST_TIMEOUT_MS (its late answer is dropped). */
  private async bounded<T>(what: string, request: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const state = String(this.client.getState());
        reject(
          new FixtureTimeout(`fixture: no answer to ${what} in ${FIXTURE_REQUEST_TIMEOUT_MS} ms (${state})`),
        );
      }, FIXTURE_REQUEST_TIMEOUT_MS);
    });
    try {
      return await Promise.race([request, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The fixture cannot be used any more (its session expired, or a request got no answer): connect a new one. */
  unusable(err: unknown): boolean {
    return this.expired() || err instanceof FixtureTimeout;
  }

  /** The server ended this client's session (it was away too long): a new fixture must be connected. */
  expired(): boolean {
    return this.client.getState() === zookeeper.State.EXPIRED;
  }

  /** This client's session id in hex without leading zeros, as the server's `cons` command shows it. */
  sessionId(): string {
    return this.client.getSessionId().toString('hex').replace(/^0+/, '');
  }

  /** Also safe on a client that is reconnecting, where the library's own close() can throw (see stopClient). */
  close(): void {
    stopClient(this.client);
  }
}
