import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { createClient, type EtcdStoreClient } from '../../src/backends/etcd.js';
import type { BackendOptions } from '../../src/backends/store-client.js';
import { BackendError, ConfigError } from '../../src/errors.js';
import { runStoresScript } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { quietLogger as quiet } from '../support/loggers.js';
import { freePort } from '../support/net.js';
import { makeCertificates } from '../support/certificates.js';

const options = (over: Partial<BackendOptions>): BackendOptions =>
  backendOptions({ backend: 'etcd', connectTimeoutMs: 3000, ...over });

// The shared etcd speaks plain HTTP; this suite runs its own etcd that requires TLS and client certificates.
describe('etcd backend over TLS (own etcd instance)', function () {
  let dir: string;
  let server: ChildProcess | undefined;
  let endpoint: string;
  let files: { ca: string; cert: string; key: string };

  before(async function () {
    this.timeout(180_000);
    await runStoresScript(['install', 'etcd']);
    dir = await mkdtemp(join(tmpdir(), 'confd-etcd-tls-'));
    await makeCertificates(dir);
    files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    endpoint = `127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    server = spawn(
      'etcd',
      [
        '--name',
        'tls',
        '--data-dir',
        join(dir, 'data'),
        '--listen-client-urls',
        `https://${endpoint}`,
        '--advertise-client-urls',
        `https://${endpoint}`,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `tls=${peer}`,
        '--cert-file',
        join(dir, 'server.crt'),
        '--key-file',
        join(dir, 'server.key'),
        '--client-cert-auth',
        '--trusted-ca-file',
        files.ca,
      ],
      { stdio: 'ignore' },
    );
    const admin = new Etcd3({
      hosts: `https://${endpoint}`,
      credentials: {
        rootCertificate: await readFile(files.ca),
        certChain: await readFile(files.cert),
        privateKey: await readFile(files.key),
      },
    });
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await admin.put('/tls/app/key').value('over tls');
          break;
        } catch (err) {
          if (attempt >= 150 || server.exitCode !== null) throw err;
          await sleep(200);
        }
      }
    } finally {
      admin.close();
    }
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((ok) => server?.once('exit', ok));
      server.kill('SIGTERM');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function read(over: Partial<BackendOptions>): Promise<unknown> {
    let client: EtcdStoreClient;
    try {
      client = await createClient(options({ nodes: [endpoint], ...over }), quiet);
    } catch (err) {
      // The connection (TLS handshake included) is checked when the client is created.
      return err;
    }
    try {
      return Object.fromEntries(await client.getValues(['/tls/app']));
    } catch (err) {
      return err;
    } finally {
      await client.close();
    }
  }

  it('reads with CA and client certificate; the TLS files alone switch a host:port node to TLS', async () => {
    const got = await read({ clientCaKeys: files.ca, clientCert: files.cert, clientKey: files.key });
    expect(got).to.deep.equal({ '/tls/app/key': 'over tls' });
  });

  it('reads from an https:// node', async () => {
    const got = await read({
      nodes: [`https://${endpoint}`],
      clientCaKeys: files.ca,
      clientCert: files.cert,
      clientKey: files.key,
    });
    expect(got).to.deep.equal({ '/tls/app/key': 'over tls' });
  });

  it('refuses a server certificate it cannot verify', async () => {
    const err = await read({ clientCert: files.cert, clientKey: files.key });
    expect(err).to.be.instanceOf(BackendError);
    expect((err as BackendError).message)
      .to.contain(endpoint)
      .and.to.match(/unable to verify|certificate/i);
  });

  it('skips server verification with -client-insecure', async () => {
    const got = await read({ clientCert: files.cert, clientKey: files.key, clientInsecure: true });
    expect(got).to.deep.equal({ '/tls/app/key': 'over tls' });
  });

  it('fails with a BackendError when the server demands a client certificate and none is given', async () => {
    const err = await read({ nodes: [`https://${endpoint}`], clientCaKeys: files.ca });
    expect(err).to.be.instanceOf(BackendError);
    expect((err as BackendError).message).to.match(/bad certificate|certificate required/i);
    expect((err as BackendError).endpoints).to.deep.equal([`https://${endpoint}`]);
  });

  it('reports a missing TLS file as a configuration error naming the flag and the file', async () => {
    const missing = join(dir, 'nope.crt');
    const err = await createClient(options({ nodes: [endpoint], clientCaKeys: missing }), quiet).catch(
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).file).to.equal(missing);
    expect((err as Error).message)
      .to.contain('-client-ca-keys')
      .and.to.contain(missing);
  });

  it('reports a client certificate without its key as a configuration error', async () => {
    const err = await createClient(options({ nodes: [endpoint], clientCert: files.cert }), quiet).catch(
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.contain('-client-key');
  });
});
