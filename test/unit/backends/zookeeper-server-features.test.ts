import { expect } from 'chai';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { ServerFeatures } from '../../../src/backends/zookeeper-read-batch.js';

/** A server that answers `srvr` as a ZooKeeper of `version` would (the first line is what is parsed). */
async function srvrServer(version: string): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((socket) => {
    socket.once('data', () =>
      socket.end(`Zookeeper version: ${version}-abc, built on 2024\nMode: standalone\n`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('zookeeper ServerFeatures: multiRead batches only for a server known to be 3.6 or later', () => {
  const servers: Server[] = [];
  const serve = async (version: string): Promise<string> => {
    const { endpoint, server } = await srvrServer(version);
    servers.push(server);
    return endpoint;
  };
  const features = (batches = true): ServerFeatures =>
    new ServerFeatures(1000, batches, () => Promise.resolve([]));

  after(() => servers.forEach((s) => s.close()));

  it('batches on 3.6 and later, not on 3.5, and not when the version is unknown', async () => {
    const f = features();
    f.learn(await serve('3.8.4'));
    expect(await f.readBatcher()).to.not.equal(undefined);
    f.learn(await serve('3.5.9'));
    expect(await f.readBatcher()).to.equal(undefined);
    f.learn(undefined);
    expect(await f.readBatcher()).to.equal(undefined);
    expect(await f.serverVersion()).to.equal(undefined);
  });

  it('holds reads while the connection is down, then asks the server it came back to', async () => {
    const f = features();
    f.learn(await serve('3.8.4'));
    const before = await f.readBatcher();
    f.disconnected();
    let answered = false;
    const waiting = f.readBatcher().then((batcher) => {
      answered = true;
      return batcher;
    });
    // Several turns of the event loop: nothing settles it but the reconnect.
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(answered).to.equal(false);
    f.learn(await serve('3.5.9'));
    expect(await waiting).to.equal(undefined);
    // The old connection's batcher sends nothing more: its reads go one by one.
    expect(await before?.read({ op: 4, path: '/a' })).to.equal(undefined);
  });

  it('lets waiting reads go when the session is gone', async () => {
    const f = features();
    f.learn(await serve('3.8.4'));
    f.disconnected();
    const waiting = f.readBatcher();
    f.closed();
    expect(await waiting).to.equal(undefined);
  });

  it('never batches, nor waits for the version, with batches off', async () => {
    const f = features(false);
    f.disconnected();
    expect(await f.readBatcher()).to.equal(undefined);
  });
});
