import zookeeper from 'node-zookeeper-client';
import type { Client as ZkLibClient } from 'node-zookeeper-client';

/** The store's own client, promisified, to load and change nodes independently of the code under test. */
export class ZkFixture {
  private constructor(readonly client: ZkLibClient) {}

  static async connect(endpoint: string, auth?: string): Promise<ZkFixture> {
    const client = zookeeper.createClient(endpoint, { retries: 2 });
    if (auth) client.addAuthInfo('digest', Buffer.from(auth));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Stops the library's endless reconnect attempts, so a failed fixture leaves nothing running.
        client.close();
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
      await new Promise<void>((resolve, reject) =>
        this.client.mkdirp(parent, (err) => (err ? reject(err) : resolve())),
      );
    }
    await new Promise<void>((resolve, reject) =>
      this.client.create(path, Buffer.from(value), (err) => {
        if (!err) return resolve();
        if ((err as { code?: number }).code !== zookeeper.Exception.NODE_EXISTS) return reject(err);
        this.client.setData(path, Buffer.from(value), (setErr) => (setErr ? reject(setErr) : resolve()));
      }),
    );
  }

  async setData(path: string, value: string): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.client.setData(path, Buffer.from(value), (err) => (err ? reject(err) : resolve())),
    );
  }

  async remove(path: string): Promise<void> {
    const children = await new Promise<string[]>((resolve, reject) =>
      this.client.getChildren(path, (err, list) => {
        if (!err) return resolve(list);
        if ((err as { code?: number }).code === zookeeper.Exception.NO_NODE) return resolve([]);
        reject(err);
      }),
    );
    await Promise.all(children.map((child) => this.remove(`${path}/${child}`)));
    await new Promise<void>((resolve, reject) =>
      this.client.remove(path, (err) =>
        !err || (err as { code?: number }).code === zookeeper.Exception.NO_NODE ? resolve() : reject(err),
      ),
    );
  }

  /** The server ended this client's session (it was away too long): a new fixture must be connected. */
  expired(): boolean {
    return this.client.getState() === zookeeper.State.EXPIRED;
  }

  /** This client's session id in hex without leading zeros, as the server's `cons` command shows it. */
  sessionId(): string {
    return this.client.getSessionId().toString('hex').replace(/^0+/, '');
  }

  close(): void {
    this.client.close();
  }
}
