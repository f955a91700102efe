import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { createClient, type EtcdClientHooks, type EtcdStoreClient } from '../../src/backends/etcd.js';
import type { BackendOptions, PrefixWatch } from '../../src/backends/store-client.js';
import { useStore } from './support/stores.js';
import { backendOptions } from '../support/backend-options.js';
import { recordingLogger } from '../support/loggers.js';
import { never } from '../support/async.js';

const options = (over: Partial<BackendOptions>): BackendOptions =>
  backendOptions({ backend: 'etcd', connectTimeoutMs: 3000, ...over });

/**
 * Reads under a watched prefix come from the copy its watch keeps (src/backends/watched-copy.ts): no
 * transaction reaches etcd, and what they return is what etcd holds after every change the watch reported.
 * Transactions are counted through the client's afterTxn hook (every read of getValues is one or more).
 */
describe('etcd reads from the watch’s copy of a prefix (real etcd)', function () {
  this.timeout(60_000);
  let endpoint: string;
  let admin: Etcd3;
  const opened: EtcdStoreClient[] = [];
  const P = `/confd-ts-copy-${randomBytes(4).toString('hex')}`;

  async function open(hooks: EtcdClientHooks = {}): Promise<{ client: EtcdStoreClient; txns: () => number }> {
    let txns = 0;
    const client = await createClient(options({ nodes: [endpoint] }), recordingLogger(), {
      ...hooks,
      afterTxn: async (info) => {
        txns += 1;
        await hooks.afterTxn?.(info);
      },
    });
    opened.push(client);
    return { client, txns: () => txns };
  }

  async function put(key: string, value: string): Promise<number> {
    return Number((await admin.put(key).value(value)).header.revision);
  }

  /** Waits until the watch has reported every change up to `revision`. */
  async function reported(watch: PrefixWatch, revision: number): Promise<void> {
    let index = watch.index;
    while (index < revision) index = (await watch.next(index, [], { signal: never() })).index;
  }

  before(async function () {
    this.timeout(180_000);
    ({ endpoint } = await useStore('etcd'));
    admin = new Etcd3({ hosts: `http://${endpoint}` });
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });

  after(async () => {
    await admin?.delete().prefix(P);
    admin?.close();
  });

  it('answers from the copy after an update, a new key and a delete, without a transaction; a key outside is read', async () => {
    const root = `${P}/app`;
    await put(`${root}/a`, '1');
    await put(`${root}/b`, '2');
    await put(`${root}-x/sibling`, 'not under the root');
    await put(`${P}/other`, 'outside');
    const { client, txns } = await open();
    const watch = await client.watch(root);
    expect(Object.fromEntries(await client.getValues([root]))).to.deep.equal({
      [`${root}/a`]: '1',
      [`${root}/b`]: '2',
    });
    await put(`${root}/a`, 'one');
    await put(`${root}/c/deep`, '');
    const last = Number((await admin.delete().key(`${root}/b`)).header.revision);
    await reported(watch, last);
    expect(Object.fromEntries(await client.getValues([root]))).to.deep.equal({
      [`${root}/a`]: 'one',
      [`${root}/c/deep`]: '',
    });
    expect(Object.fromEntries(await client.getValues([`${root}/c`]))).to.deep.equal({
      [`${root}/c/deep`]: '',
    });
    expect(txns()).to.equal(0);
    expect(Object.fromEntries(await client.getValues([root, `${P}/other`]))).to.deep.equal({
      [`${root}/a`]: 'one',
      [`${root}/c/deep`]: '',
      [`${P}/other`]: 'outside',
    });
    expect(txns()).to.equal(1);
  });

  it('reads keys under two watched prefixes from etcd in one snapshot, never mixing two copies', async () => {
    await put(`${P}/one/k`, '1');
    await put(`${P}/two/k`, '2');
    const { client, txns } = await open();
    await client.watch(`${P}/one`);
    await client.watch(`${P}/two`);
    expect(Object.fromEntries(await client.getValues([`${P}/one`]))).to.deep.equal({ [`${P}/one/k`]: '1' });
    expect(txns()).to.equal(0);
    expect(Object.fromEntries(await client.getValues([`${P}/one`, `${P}/two`]))).to.deep.equal({
      [`${P}/one/k`]: '1',
      [`${P}/two/k`]: '2',
    });
    expect(txns()).to.equal(1);
  });

  it('a fresh read goes to etcd even under a watched prefix', async () => {
    const root = `${P}/fresh`;
    await put(`${root}/k`, 'v');
    const { client, txns } = await open();
    await client.watch(root);
    expect(Object.fromEntries(await client.getValues([root], { fresh: true }))).to.deep.equal({
      [`${root}/k`]: 'v',
    });
    expect(txns()).to.equal(1);
    // It agreed with the copy, which stays in use.
    expect(Object.fromEntries(await client.getValues([root]))).to.deep.equal({ [`${root}/k`]: 'v' });
    expect(txns()).to.equal(1);
  });

  it('reads from etcd once the watch is released', async () => {
    const root = `${P}/released`;
    await put(`${root}/k`, 'v');
    const { client, txns } = await open();
    const watch = await client.watch(root);
    expect(Object.fromEntries(await client.getValues([root]))).to.deep.equal({ [`${root}/k`]: 'v' });
    expect(txns()).to.equal(0);
    watch.release();
    await put(`${root}/k`, 'w');
    expect(Object.fromEntries(await client.getValues([root]))).to.deep.equal({ [`${root}/k`]: 'w' });
    expect(txns()).to.equal(1);
  });

  it('drops the copy when the watch had to skip compacted revisions: reads go to etcd again', async () => {
    const root = `${P}/compacted`;
    const key = `${root}/key`;
    await put(key, 'a');
    let compactedAt = 0;
    const { client, txns } = await open({
      beforeWatch: async () => {
        if (compactedAt > 0) return;
        // Between the read that armed the watch and the watch itself: the copy misses 'b' and 'c'.
        await put(key, 'b');
        compactedAt = await put(key, 'c');
        await admin.kv.compact({ revision: String(compactedAt) });
      },
    });
    const watch = await client.watch(root);
    // Changes after the watch started again, until one arrives as an event (not as the resync, whose
    // revision may already cover it): the new stream is connected and its events flow.
    for (let index = watch.index, seen = false; !seen;) {
      const revision = await put(`${root}/later`, 'x');
      while (index < revision) {
        const result = await watch.next(index, [], { signal: never() });
        index = result.index;
        seen ||= result.changedKeys?.includes(`${root}/later`) === true;
      }
    }
    expect(Object.fromEntries(await client.getValues([root]))).to.deep.equal({
      [key]: 'c',
      [`${root}/later`]: 'x',
    });
    expect(txns()).to.equal(1);
  });
});
