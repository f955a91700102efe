import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Consul from 'consul';
import { consulEndpoints, createClient, type ConsulClient } from '../../src/backends/consul.js';
import { readValues, type ConsulKvReader } from '../../src/backends/consul-kv.js';
import type { BackendOptions } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import { startDevAgent, stopAgent } from './support/consul-agent.js';
import { useStore } from './support/stores.js';
import { makeCertificates } from '../support/certificates.js';
import { backendOptions } from '../support/backend-options.js';
import { quietLogger as quiet, recordingLogger } from '../support/loggers.js';
import { freePort } from '../support/net.js';
import { rejection } from '../support/async.js';

const storeOptions = (nodes: string[], extra: Partial<BackendOptions> = {}): BackendOptions =>
  backendOptions({ backend: 'consul', nodes, ...extra });

/** The store's own client, for fixtures. */
function fixtureClient(endpoint: string, token?: string): Consul {
  const [host, port] = endpoint.split(':');
  return new Consul({
    host: host ?? '127.0.0.1',
    port: Number(port),
    ...(token ? { defaults: { token } } : {}),
  });
}

describe('consul backend (real agent)', function () {
  this.timeout(30_000);

  const prefix = `confd-test-${randomBytes(4).toString('hex')}`;
  const root = `/${prefix}`;
  let endpoint: string;
  let kv: Consul;
  let client: ConsulClient;

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('consul'));
    kv = fixtureClient(endpoint);
    const fixtures: Record<string, string> = {
      'app/db/host': 'db.local',
      'app/db/port': '5432',
      'app/db/empty': '',
      'app/dbx/host': 'other.local',
      'app/db/': '',
      'nested/a/b/c/d': 'deep',
      'nested/a/leaf': 'shallow',
      'odd/spaces': '  two  spaces  ',
      'odd/newlines': 'line 1\nline 2\n',
      'odd/unicode': 'grüße, 日本, 🚀',
      'odd/braces': '{{ .not_a_template }} {{#if x}}',
    };
    await Promise.all(Object.entries(fixtures).map(([key, value]) => kv.kv.set(`${prefix}/${key}`, value)));
    client = await createClient(storeOptions([endpoint]), quiet);
  });

  after(async () => {
    await client?.close();
    if (kv) {
      await kv.kv.del({ key: `${prefix}/`, recurse: true });
      kv.destroy();
    }
  });

  it('reads one exact key', async () => {
    expect(Object.fromEntries(await client.getValues([`${root}/app/db/host`]))).to.deep.equal({
      [`${root}/app/db/host`]: 'db.local',
    });
  });

  it('keeps to the path boundary (/app/db excludes /app/dbx), skips folder entries, reads empty values as ""', async () => {
    expect(Object.fromEntries(await client.getValues([`${root}/app/db`]))).to.deep.equal({
      [`${root}/app/db/host`]: 'db.local',
      [`${root}/app/db/port`]: '5432',
      [`${root}/app/db/empty`]: '',
    });
  });

  it('reads nested directories', async () => {
    expect(Object.fromEntries(await client.getValues([`${root}/nested`]))).to.deep.equal({
      [`${root}/nested/a/b/c/d`]: 'deep',
      [`${root}/nested/a/leaf`]: 'shallow',
    });
  });

  it('yields no keys for a missing path, without failing the other keys', async () => {
    expect(Object.fromEntries(await client.getValues([`${root}/missing`]))).to.deep.equal({});
    expect(
      Object.fromEntries(await client.getValues([`${root}/missing`, `${root}/app/db/port`])),
    ).to.deep.equal({
      [`${root}/app/db/port`]: '5432',
    });
  });

  it('reads the whole store for "/"', async () => {
    expect(Object.fromEntries(await client.getValues(['/']))).to.include({ [`${root}/app/db/port`]: '5432' });
  });

  it('returns decoded values byte for byte: spaces, newlines, unicode and template braces', async () => {
    expect(Object.fromEntries(await client.getValues([`${root}/odd`]))).to.deep.equal({
      [`${root}/odd/spaces`]: '  two  spaces  ',
      [`${root}/odd/newlines`]: 'line 1\nline 2\n',
      [`${root}/odd/unicode`]: 'grüße, 日本, 🚀',
      [`${root}/odd/braces`]: '{{ .not_a_template }} {{#if x}}',
    });
  });

  it('reads 250 keys', async () => {
    const expected: Record<string, string> = {};
    for (let dir = 0; dir < 5; dir += 1) {
      for (let i = 0; i < 50; i += 1) expected[`${root}/many/d${dir}/k${i}`] = `value ${dir}/${i}`;
    }
    // In batches: Consul resets connections beyond 200 per client address.
    const entries = Object.entries(expected);
    for (let i = 0; i < entries.length; i += 25) {
      await Promise.all(entries.slice(i, i + 25).map(([key, value]) => kv.kv.set(key.slice(1), value)));
    }
    const values = await client.getValues([`${root}/many`]);
    expect(values.size).to.equal(250);
    expect(Object.fromEntries(values)).to.deep.equal(expected);
  });

  it('issues the reads for several keys concurrently', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const counting: ConsulKvReader = {
      list: async (key) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          return await client.list(key);
        } finally {
          inFlight -= 1;
        }
      },
    };
    const values = await readValues(counting, [`${root}/app/db`, `${root}/nested`, `${root}/odd`]);
    expect(values.size).to.equal(9);
    expect(maxInFlight).to.equal(3);
  });

  it('uses the next node when the first is dead', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const multi = await createClient(storeOptions([dead, endpoint]), quiet);
    try {
      expect(Object.fromEntries(await multi.getValues([`${root}/app/db/port`]))).to.deep.equal({
        [`${root}/app/db/port`]: '5432',
      });
    } finally {
      await multi.close();
    }
  });

  it('skips an agent that fails TLS (https:// against a plain-http agent), says so, and uses the next node', async () => {
    const logger = recordingLogger();
    const multi = await createClient(storeOptions([`https://${endpoint}`, endpoint]), logger);
    try {
      expect(Object.fromEntries(await multi.getValues([`${root}/app/db/port`]))).to.deep.equal({
        [`${root}/app/db/port`]: '5432',
      });
    } finally {
      await multi.close();
    }
    expect(logger.messages('warn').join('\n')).to.include(`https://${endpoint}`).and.include('TLS');
  });

  it('fails naming the agent and TLS when the only node fails TLS', async () => {
    const err = await rejection(createClient(storeOptions([`https://${endpoint}`]), quiet));
    expect(err).to.be.instanceOf(BackendError);
    expect(err.message).to.include(`https://${endpoint}`).and.include('TLS').and.include('EPROTO');
  });

  describe('a node that is not a Consul agent (etcd answers 404 to /v1/status/leader)', () => {
    let etcd: string;

    before(async function () {
      this.timeout(180_000);
      ({ endpoint: etcd } = await useStore('etcd'));
    });

    it('is skipped for the next node, whose keys are read', async () => {
      const multi = await createClient(storeOptions([etcd, endpoint]), quiet);
      try {
        expect(Object.fromEntries(await multi.getValues([`${root}/app/db/port`]))).to.deep.equal({
          [`${root}/app/db/port`]: '5432',
        });
      } finally {
        await multi.close();
      }
    });

    it('fails with the HTTP status when it is the only node, instead of reading "no keys"', async () => {
      const err = await rejection(createClient(storeOptions([etcd]), quiet));
      expect(err).to.be.instanceOf(BackendError);
      expect(err.message).to.include(etcd).and.include('HTTP 404');
    });
  });

  it('fails with a BackendError naming the endpoints and the cause when no agent answers', async () => {
    const dead = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const err = await rejection(createClient(storeOptions(dead, { connectTimeoutMs: 1000 }), quiet));
    expect(err).to.be.instanceOf(BackendError);
    expect((err as BackendError).backend).to.equal('consul');
    expect((err as BackendError).endpoints).to.deep.equal(dead);
    expect(err.message).to.include(dead[0]).and.include(dead[1]).and.include('ECONNREFUSED');
  });

  it('rejects calls after close', async () => {
    const closing = await createClient(storeOptions([endpoint]), quiet);
    await closing.close();
    await closing.close();
    expect(await rejection(closing.getValues([root]))).to.be.instanceOf(BackendError);
  });
});

/** A second agent with ACLs on (default deny), on its own ports, for the token tests only. */
describe('consul backend with ACLs (real agent)', function () {
  this.timeout(30_000);

  const master = `master-${randomBytes(8).toString('hex')}`;
  let dir: string;
  let agent: ChildProcess | undefined;
  let endpoint: string;
  let savedEnv: string | undefined;

  before(async function () {
    this.timeout(120_000);
    dir = await mkdtemp(join(tmpdir(), 'confd-consul-acl-'));
    const http = await freePort();
    endpoint = `127.0.0.1:${http}`;
    const admin = fixtureClient(endpoint, master);
    try {
      // Ready once the master token can write: leader elected and ACLs bootstrapped.
      agent = await startDevAgent(
        'confd-acl-test',
        dir,
        `acl {\n  enabled = true\n  default_policy = "deny"\n  tokens {\n    master = "${master}"\n  }\n}\n`,
        ['-http-port', `${http}`],
        async () => (await admin.kv.set('secret/db/password', 'hunter2')) === true,
      );
    } finally {
      admin.destroy();
    }
    savedEnv = process.env.CONSUL_HTTP_TOKEN;
  });

  afterEach(() => {
    if (savedEnv === undefined) delete process.env.CONSUL_HTTP_TOKEN;
    else process.env.CONSUL_HTTP_TOKEN = savedEnv;
  });

  after(async function () {
    this.timeout(30_000);
    await stopAgent(agent);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function readWith(extra: Partial<BackendOptions>): Promise<Record<string, string>> {
    const client = await createClient(storeOptions([endpoint], extra), quiet);
    try {
      return Object.fromEntries(await client.getValues(['/secret']));
    } finally {
      await client.close();
    }
  }

  it('reports "permission denied (ACL)" at the agent without a token, where Consul itself answers 404 to the listing', async () => {
    delete process.env.CONSUL_HTTP_TOKEN;
    const err = await rejection(readWith({}));
    expect(err).to.be.instanceOf(BackendError);
    expect(err.message).to.include('permission denied (ACL)').and.include(`/secret at ${endpoint}`);
  });

  it('reads with the token from -auth-token', async () => {
    delete process.env.CONSUL_HTTP_TOKEN;
    expect(await readWith({ authToken: master })).to.deep.equal({ '/secret/db/password': 'hunter2' });
  });

  it('reads with the token from CONSUL_HTTP_TOKEN', async () => {
    process.env.CONSUL_HTTP_TOKEN = master;
    expect(await readWith({})).to.deep.equal({ '/secret/db/password': 'hunter2' });
  });

  it('prefers -auth-token over CONSUL_HTTP_TOKEN, and an unknown token is denied without being echoed', async () => {
    process.env.CONSUL_HTTP_TOKEN = master;
    const bogus = 'bogus-token-value';
    const err = await rejection(readWith({ authToken: bogus }));
    expect(err).to.be.instanceOf(BackendError);
    expect(err.message)
      .to.include('permission denied (ACL)')
      .and.include('ACL not found')
      .and.not.include(bogus);
  });
});

/** A third agent that speaks HTTPS only (its plain HTTP port is off), for -scheme https and the TLS flags. */
describe('consul backend over TLS (real agent)', function () {
  this.timeout(30_000);

  let dir: string;
  let agent: ChildProcess | undefined;
  let endpoint: string;
  let ca: string;

  before(async function () {
    this.timeout(120_000);
    dir = await mkdtemp(join(tmpdir(), 'confd-consul-tls-'));
    await makeCertificates(dir);
    ca = join(dir, 'ca.crt');
    const https = await freePort();
    endpoint = `127.0.0.1:${https}`;
    const admin = new Consul({
      baseUrl: `https://${endpoint}/v1`,
      agent: new HttpsAgent({ ca: await readFile(ca), keepAlive: true }),
    } as ConstructorParameters<typeof Consul>[0]);
    try {
      // Ready once a write goes through over TLS: leader elected.
      agent = await startDevAgent(
        'confd-tls-test',
        dir,
        [
          `ports {\n  http = -1\n  https = ${https}\n}`,
          `cert_file = "${join(dir, 'server.crt')}"`,
          `key_file = "${join(dir, 'server.key')}"`,
          `ca_file = "${ca}"`,
          'verify_incoming = false',
          '',
        ].join('\n'),
        [],
        async () => (await admin.kv.set('tls/db/host', 'secure.local')) === true,
      );
    } finally {
      admin.destroy();
    }
  });

  after(async function () {
    this.timeout(30_000);
    await stopAgent(agent);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function readWith(nodes: string[], extra: Partial<BackendOptions>): Promise<Record<string, string>> {
    const client = await createClient(storeOptions(nodes, extra), quiet);
    try {
      return Object.fromEntries(await client.getValues(['/tls']));
    } finally {
      await client.close();
    }
  }

  it('reads with -scheme https and -client-ca-keys', async () => {
    expect(await readWith([endpoint], { scheme: 'https', clientCaKeys: ca })).to.deep.equal({
      '/tls/db/host': 'secure.local',
    });
  });

  it('reads from an https:// node with -client-insecure and no CA', async () => {
    expect(await readWith([`https://${endpoint}`], { clientInsecure: true })).to.deep.equal({
      '/tls/db/host': 'secure.local',
    });
  });

  it('fails naming the agent and TLS when the CA is not given', async () => {
    const err = await rejection(readWith([endpoint], { scheme: 'https' }));
    expect(err).to.be.instanceOf(BackendError);
    expect(err.message).to.include(endpoint).and.include('TLS').and.include('-client-ca-keys');
  });

  it('fails naming the agent when spoken to in plain HTTP', async () => {
    const err = await rejection(readWith([endpoint], {}));
    expect(err).to.be.instanceOf(BackendError);
    expect(err.message).to.include(endpoint).and.include('HTTP 400');
  });
});

describe('consulEndpoints', () => {
  it('keeps host:port and scheme-qualified nodes, adds port 8500 to a bare host, defaults to 127.0.0.1:8500', () => {
    expect(consulEndpoints(['c1:8501', ' c2 ', 'https://c3:8501'])).to.deep.equal([
      'c1:8501',
      'c2:8500',
      'https://c3:8501',
    ]);
    expect(consulEndpoints([])).to.deep.equal(['127.0.0.1:8500']);
  });
});
