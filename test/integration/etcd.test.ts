import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { execa } from 'execa';
import { createClient, ETCD_MAX_TXN_OPS, type EtcdStoreClient } from '../../src/backends/etcd.js';
import type { BackendOptions } from '../../src/backends/store-client.js';
import { BackendError } from '../../src/errors.js';
import type { Logger } from '../../src/logging/logger.js';
import { useStore } from './support/stores.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function options(over: Partial<BackendOptions>): BackendOptions {
  return {
    backend: 'etcd',
    nodes: [],
    scheme: 'http',
    clientInsecure: false,
    basicAuth: false,
    separator: '/',
    files: [],
    filter: '*',
    connectTimeoutMs: 3000,
    ...over,
  };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (m: string): void => void lines.push(m);
  return { lines, debug: log, info: log, warn: log, error: log };
}

/** An address nothing listens on: a port the OS just handed out and took back. */
async function deadEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `127.0.0.1:${address.port}`;
}

describe('etcd backend (real etcd)', function () {
  let endpoint: string;
  let admin: Etcd3;
  let client: EtcdStoreClient;
  // Every run writes under its own prefix, so runs never see each other's keys.
  const P = `/confd-ts-test-${randomBytes(4).toString('hex')}`;

  before(async function () {
    this.timeout(120_000);
    ({ endpoint } = await useStore('etcd'));
    admin = new Etcd3({ hosts: `http://${endpoint}` });
    client = await createClient(options({ nodes: [endpoint] }), recordingLogger());
  });

  after(async () => {
    await client?.close();
    await admin?.delete().prefix(P);
    admin?.close();
  });

  async function put(entries: Record<string, string>): Promise<void> {
    for (const [key, value] of Object.entries(entries)) await admin.put(`${P}${key}`).value(value);
  }

  it('returns a key itself and what lies under it on a path boundary, never a sibling sharing the prefix', async () => {
    await put({
      '/b/app/db': 'root',
      '/b/app/db/user': 'alice',
      '/b/app/db/pool/max': '10',
      '/b/app/dbx': 'sibling',
    });
    expect(await client.getValues([`${P}/b/app/db`])).to.deep.equal({
      [`${P}/b/app/db`]: 'root',
      [`${P}/b/app/db/user`]: 'alice',
      [`${P}/b/app/db/pool/max`]: '10',
    });
  });

  it('reads nested directories under a key, and a trailing slash on the key changes nothing', async () => {
    await put({ '/n/a/b/c/d': 'deep', '/n/a/x': 'shallow', '/n/ab': 'other' });
    const expected = { [`${P}/n/a/b/c/d`]: 'deep', [`${P}/n/a/x`]: 'shallow' };
    expect(await client.getValues([`${P}/n/a`])).to.deep.equal(expected);
    expect(await client.getValues([`${P}/n/a/`])).to.deep.equal(expected);
  });

  it('yields no entry for a missing key, next to the keys that exist', async () => {
    await put({ '/m/present': 'yes' });
    expect(await client.getValues([`${P}/m/absent`, `${P}/m/present`])).to.deep.equal({
      [`${P}/m/present`]: 'yes',
    });
    expect(await client.getValues([`${P}/m/absent`])).to.deep.equal({});
  });

  it('returns values byte for byte: spaces, newlines, unicode and template braces', async () => {
    const values = {
      '/v/spaces': '  leading and trailing  ',
      '/v/lines': 'line one\nline two\r\n\ttabbed\n',
      '/v/unicode': 'héllo wörld ✓ 日本語 🚀',
      '/v/braces': '{{ .Values }} {{{raw}}} }}{{',
      '/v/empty': '',
    };
    await put(values);
    const got = await client.getValues([`${P}/v`]);
    expect(got).to.deep.equal(Object.fromEntries(Object.entries(values).map(([k, v]) => [`${P}${k}`, v])));
  });

  it('reads 200+ keys in one call, in transactions of at most 128 operations, all at one revision', async () => {
    const keys: string[] = [];
    const expected: Record<string, string> = {};
    for (let i = 0; i < 220; i++) {
      const key = `${P}/many/k${String(i).padStart(3, '0')}`;
      keys.push(key);
      expected[key] = `value ${i}`;
    }
    await Promise.all(keys.map((k) => admin.put(k).value(expected[k] ?? '')));
    const seen: Array<{ requestedRevision: number; revision: number; operations: number }> = [];
    const watched = await createClient(options({ nodes: [endpoint] }), recordingLogger(), {
      afterTxn: (info) => void seen.push(info),
    });
    try {
      expect(await watched.getValues(keys)).to.deep.equal(expected);
      // Two operations per key (the key, and the range under key/), so 440 operations in 4 transactions.
      expect(seen).to.have.length(Math.ceil((keys.length * 2) / ETCD_MAX_TXN_OPS));
      for (const txnInfo of seen) expect(txnInfo.operations).to.be.at.most(ETCD_MAX_TXN_OPS);
      const first = seen[0]!;
      expect(first.requestedRevision).to.equal(0);
      for (const later of seen.slice(1)) {
        expect(later.requestedRevision).to.equal(first.revision);
        expect(later.revision).to.be.at.least(first.revision);
      }
      expect(watched.lastRevision()).to.equal(first.revision);
    } finally {
      await watched.close();
    }
  });

  it('is a consistent snapshot: a write landing between its transactions is not seen', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `${P}/snap/k${String(i).padStart(3, '0')}`);
    for (const key of keys) await admin.put(key).value('before');
    const last = keys[keys.length - 1]!;
    let wrote = false;
    const racing = await createClient(options({ nodes: [endpoint] }), recordingLogger(), {
      afterTxn: async () => {
        if (wrote) return;
        wrote = true;
        // The last key is read by the second transaction, after this write is committed.
        await admin.put(last).value('after');
      },
    });
    try {
      const got = await racing.getValues(keys);
      expect(wrote).to.equal(true);
      expect(got[last]).to.equal('before');
      expect((await racing.getValues([last]))[last]).to.equal('after');
    } finally {
      await racing.close();
    }
  });

  it('accepts -backend etcdv3 and http:// endpoints the same way', async () => {
    await put({ '/v3/key': 'v3 value' });
    const v3 = await createClient(
      options({ backend: 'etcdv3', nodes: [`http://${endpoint}`] }),
      recordingLogger(),
    );
    try {
      expect(await v3.getValues([`${P}/v3/key`])).to.deep.equal({ [`${P}/v3/key`]: 'v3 value' });
    } finally {
      await v3.close();
    }
  });

  it('fails over to a live endpoint when the first one is dead', async () => {
    await put({ '/fo/key': 'reached' });
    const dead = await deadEndpoint();
    const failover = await createClient(options({ nodes: [dead, endpoint] }), recordingLogger());
    try {
      // The client picks endpoints in random order: read a few times so the dead one is surely tried.
      for (let i = 0; i < 4; i++) {
        expect(await failover.getValues([`${P}/fo/key`])).to.deep.equal({ [`${P}/fo/key`]: 'reached' });
      }
    } finally {
      await failover.close();
    }
  });

  it('rejects with a BackendError naming the backend, the endpoints and the cause when nothing listens', async function () {
    const dead = [await deadEndpoint(), await deadEndpoint()];
    const refused = await createClient(options({ nodes: dead, connectTimeoutMs: 2000 }), recordingLogger());
    this.timeout(15_000);
    try {
      const err = await refused.getValues([`${P}/x`]).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BackendError);
      const backendError = err as BackendError;
      expect(backendError.backend).to.equal('etcd');
      expect(backendError.endpoints).to.deep.equal(dead.map((d) => `http://${d}`));
      expect(backendError.message).to.contain(dead[0]).and.to.contain(dead[1]).and.to.contain('ECONNREFUSED');
    } finally {
      await refused.close();
    }
  });

  it('lets the process exit on its own after a connection failure, with one message and no stack trace', async function () {
    this.timeout(60_000);
    const dir = await mkdtemp(join(tmpdir(), 'confd-etcd-exit-'));
    try {
      const script = join(dir, 'run.mts');
      await writeFile(
        script,
        [
          `import { createClient } from ${JSON.stringify(join(repoRoot, 'src/backends/etcd.ts'))};`,
          `const quiet = { debug() {}, info() {}, warn() {}, error() {} };`,
          `const c = await createClient(${JSON.stringify(options({ nodes: [await deadEndpoint()], connectTimeoutMs: 2000 }))}, quiet);`,
          `try { await c.getValues(['/x']); console.log('no error'); } catch (e) { console.log(e.name + ': ' + e.message); }`,
          `await c.close();`,
        ].join('\n'),
      );
      // No process.exit in the script: it ends only if no socket or timer is left behind.
      const run = await execa('node', ['--import', 'tsx', script], {
        cwd: repoRoot,
        reject: false,
        timeout: 45_000,
      });
      expect(run.timedOut, 'process still running: something keeps the event loop alive').to.equal(false);
      expect(run.exitCode).to.equal(0);
      expect(run.stdout).to.match(/^BackendError: etcd: cannot reach /);
      expect(run.stderr).to.equal('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
