import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fourLetterWord } from './support/four-letter-word.js';
import { runStoresScript, useStore } from './support/stores.js';
import type { StoreName } from './support/stores.js';

const run = promisify(execFile);

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Proves the server answers through its own protocol: a key written and read back, or ZooKeeper's 4lw. */
const answers: Record<StoreName, (endpoint: string) => Promise<void>> = {
  async etcd(endpoint) {
    const post = async (path: string, body: object) => {
      const res = await fetch(`http://${endpoint}${path}`, { method: 'POST', body: JSON.stringify(body) });
      expect(res.status, `${path} status`).to.equal(200);
      return (await res.json()) as { kvs?: { value: string }[] };
    };
    await post('/v3/kv/put', { key: b64('confd-ts-smoke'), value: b64('etcd ✓') });
    const got = await post('/v3/kv/range', { key: b64('confd-ts-smoke') });
    expect(Buffer.from(got.kvs?.[0]?.value ?? '', 'base64').toString()).to.equal('etcd ✓');
  },
  async redis(endpoint) {
    const [host = '', port = ''] = endpoint.split(':');
    const cli = (...args: string[]) => run('redis-cli', ['-h', host, '-p', port, ...args]);
    expect((await cli('SET', 'confd-ts-smoke', 'redis ✓')).stdout.trim()).to.equal('OK');
    expect((await cli('GET', 'confd-ts-smoke')).stdout.trim()).to.equal('redis ✓');
  },
  async zookeeper(endpoint) {
    // Node reads and writes are the backend's own tests; here the server answering is enough.
    expect(await fourLetterWord(endpoint, 'ruok')).to.equal('imok');
    expect(await fourLetterWord(endpoint, 'srvr')).to.match(/Mode: standalone/);
  },
  async consul(endpoint) {
    const put = await fetch(`http://${endpoint}/v1/kv/confd-ts-smoke`, { method: 'PUT', body: 'consul ✓' });
    expect((await put.text()).trim()).to.equal('true');
    const get = await fetch(`http://${endpoint}/v1/kv/confd-ts-smoke?raw`);
    expect(get.status).to.equal(200);
    expect(await get.text()).to.equal('consul ✓');
  },
};

/** Alive and not a zombie: a stopped server reparented to init may linger as Z until reaped. */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('real stores (scripts/stores.sh)', function () {
  this.timeout(30_000);

  for (const name of ['etcd', 'zookeeper', 'redis', 'consul'] as const) {
    describe(name, () => {
      it('useStore starts it once and it answers', async function () {
        this.timeout(300_000);
        const store = await useStore(name);
        expect(store.endpoint).to.match(/^127\.0\.0\.1:\d+$/);
        expect(processAlive(store.pid)).to.equal(true);
        expect(await useStore(name)).to.equal(store);
        await answers[name](store.endpoint);
      });

      it('start writes pid and endpoint; stop leaves no process and no data behind', async function () {
        this.timeout(300_000);
        const dir = await mkdtemp(join(tmpdir(), `confd-ts-smoke-${name}-`));
        try {
          const endpoint = await runStoresScript(['start', name, dir]);
          expect(endpoint).to.match(/^127\.0\.0\.1:\d+$/);
          expect((await readFile(join(dir, `${name}.endpoint`), 'utf8')).trim()).to.equal(endpoint);
          const pid = Number((await readFile(join(dir, `${name}.pid`), 'utf8')).trim());
          expect(processAlive(pid), 'server running').to.equal(true);
          await answers[name](endpoint);

          // Starting again while it runs is a no-op that reports the same server.
          expect(await runStoresScript(['start', name, dir])).to.equal(endpoint);
          expect((await readFile(join(dir, `${name}.pid`), 'utf8')).trim()).to.equal(String(pid));

          await runStoresScript(['stop', name, dir], 60_000);
          expect(processAlive(pid), 'server still running after stop').to.equal(false);
          expect(existsSync(join(dir, name)), 'data dir removed').to.equal(false);
          expect(existsSync(join(dir, `${name}.pid`)), 'pid file removed').to.equal(false);
        } finally {
          await runStoresScript(['stop', name, dir], 60_000).catch(() => undefined);
          await rm(dir, { recursive: true, force: true });
        }
      });
    });
  }

  it('rejects an unknown store with a usage message', async () => {
    const err = await runStoresScript(['start', 'mysql', tmpdir()]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.match(/unknown store: mysql/);
  });
});
