import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { DaemonFixture } from './support/daemon-fixture.js';
import { FakeStore } from './support/fake-store.js';

describe('daemon (watch mode, fake store and clock)', () => {
  let f: DaemonFixture;
  beforeEach(async () => {
    f = await DaemonFixture.create();
  });
  afterEach(() => f.close());

  const updatedDests = (from: number): string[] =>
    f.events
      .of('resource', from)
      .filter((e) => e.outcome === 'updated')
      .map((e) => e.resource.dest.split('/').pop() ?? '');

  it('arms one watch per root prefix before rendering, then renders every resource once from ONE read', async () => {
    await f.resource('a', { prefix: '/app', keys: ['/db', '/cache'] });
    await f.resource('b', { prefix: '/app', keys: ['/web'] });
    await f.resource('c', { keys: ['/global/x', '/other'] });
    await f.resource('d', { prefix: '/app/db', keys: ['/'] });
    f.store.change({ '/app/db': 'pg', '/app/web': 'nginx' });
    f.start();
    await f.started();
    expect(f.store.arms).to.deep.equal(['/app', '/global/x', '/other']);
    const armed = f.events.of('watch').filter((e) => e.state === 'armed');
    const firstResource = f.events.events.findIndex((e) => e.type === 'resource');
    expect(f.events.events.indexOf(armed.at(-1)!)).to.be.lessThan(firstResource);
    expect(f.store.reads).to.have.length(1);
    expect(f.store.reads[0]).to.deep.equal(['/app/cache', '/app/db', '/app/web', '/global/x', '/other']);
    expect(updatedDests(0).sort()).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(await f.read('a')).to.equal('/db=pg\n');
    // Each root waits from the index its arm returned, for the keys of its resources.
    expect(f.store.waits.find((w) => w.prefix === '/app')).to.deep.include({
      afterIndex: 11,
      keys: ['/app/cache', '/app/db', '/app/web'],
    });
  });

  it('reads the safety-net resync from the store itself, past the copies watches keep; changes from them', async () => {
    await f.resource('a', { prefix: '/app', keys: ['/db'] });
    f.start({ intervalMs: 1000 });
    await f.started();
    let mark = f.events.mark();
    f.store.change({ '/app/db': '1' });
    await f.events.batches(mark);
    mark = f.events.mark();
    f.clock.advance(1000);
    await f.events.batches(mark);
    mark = f.events.mark();
    f.store.change({ '/app/db': '2' });
    await f.events.batches(mark);
    expect(f.store.freshReads).to.deep.equal([false, false, true, false]);
    expect(await f.read('a')).to.equal('/db=2\n');
  });

  it('re-renders only the resources a change affects', async () => {
    await f.resource('a', { prefix: '/app', keys: ['/db'] });
    await f.resource('b', { prefix: '/app', keys: ['/web'] });
    f.start();
    await f.started();
    const mark = f.events.mark();
    f.store.change({ '/app/web': 'caddy' });
    await f.events.batches(mark);
    expect(updatedDests(mark)).to.deep.equal(['b']);
    expect(await f.read('b')).to.equal('/web=caddy\n');
  });

  it('fans one change under a prefix shared by 100 resources out in ONE batch from ONE store read', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `r${i}`);
    for (const name of names) await f.resource(name, { prefix: '/app', keys: ['/shared'] });
    f.store.change({ '/app/shared': '1' });
    f.start();
    await f.started();
    expect(f.store.arms).to.deep.equal(['/app']);
    const mark = f.events.mark();
    const readsBefore = f.store.reads.length;
    f.store.change({ '/app/shared': '2' });
    const [batch] = await f.events.batches(mark);
    expect(batch?.counts.updated).to.equal(100);
    expect(f.store.reads.length - readsBefore).to.equal(1);
    expect(f.store.reads.at(-1)).to.deep.equal(['/app/shared']);
    expect(updatedDests(mark).sort()).to.deep.equal([...names].sort());
    for (const name of names) expect(await f.read(name)).to.equal('/shared=2\n');
  });

  it('debounces a burst with -wait into one batch that renders the last values', async () => {
    await f.resource('a', { prefix: '/app', keys: ['/db'] });
    f.start({ wait: { minMs: 100, maxMs: 1000 } });
    await f.started();
    const mark = f.events.mark();
    for (const v of ['1', '2', '3']) {
      f.store.change({ '/app/db': v });
      await f.events.until(
        () => f.events.of('watch', mark).filter((e) => e.state === 'fired').length >= Number(v),
      );
      f.clock.advance(50);
    }
    expect(f.events.of('batch', mark)).to.have.length(0);
    f.clock.advance(100);
    await f.events.batches(mark);
    expect(f.events.of('resource', mark)).to.have.length(1);
    expect(await f.read('a')).to.equal('/db=3\n');
  });

  it('re-arms a failed watch after the retry delay and re-renders its resources', async () => {
    await f.resource('a', { prefix: '/app', keys: ['/db'] });
    f.start();
    await f.started();
    const mark = f.events.mark();
    f.store.breakConnection(1);
    const failed = await f.events.wait('watch', mark, (e) => e.state === 'failed');
    expect(failed.retryInMs).to.equal(100);
    expect(f.store.releases).to.deep.equal(['/app']);
    // Missed while away: the watch cannot say, so the resource is rendered again once re-armed.
    f.store.data.set('/app/db', 'changed-while-away');
    f.clock.advance(100);
    // The first re-arm fails too (breakConnection(1) refuses one arm): the next delay is longer.
    const second = await f.events.wait('watch', mark, (e) => e.state === 'failed' && e.retryInMs === 200);
    expect(second.prefix).to.equal('/app');
    f.clock.advance(200);
    await f.events.wait('watch', mark, (e) => e.state === 'armed');
    await f.events.batches(mark);
    expect(await f.read('a')).to.equal('/db=changed-while-away\n');
  });

  it('keeps backing off when the store accepts every arm but drops every wait', async () => {
    await f.resource('a', { prefix: '/app', keys: ['/db'] });
    f.store.dropWaits = true;
    f.start();
    await f.started();
    const failures = () => f.events.of('watch').filter((e) => e.state === 'failed');
    for (let i = 1; i <= 3; i++) {
      await f.events.until(() => failures().length >= i);
      f.clock.advance(failures()[i - 1]?.retryInMs ?? 0);
    }
    expect(failures().map((e) => e.retryInMs)).to.deep.equal([100, 200, 400]);
  });

  it('backs a failing resource off on its own: changes meanwhile do not run it, its neighbour renders', async () => {
    const check = join(f.dir, 'check-ok');
    await f.resource('a', { prefix: '/app', keys: ['/db'], extra: `check_cmd = "test -f ${check}"` });
    await f.resource('b', { prefix: '/app', keys: ['/db'] });
    f.store.change({ '/app/db': '1' });
    f.start();
    await f.started();
    const first = f.events.of('resource').find((e) => e.resource.id === f.id('a'));
    expect(first?.outcome).to.equal('failed');
    expect(first?.reason).to.equal('check');
    expect(first?.retryInMs).to.equal(100);
    // A change during a's backoff renders b only.
    const mark = f.events.mark();
    f.store.change({ '/app/db': '2' });
    await f.events.batches(mark);
    expect(f.events.of('resource', mark).map((e) => e.resource.id)).to.deep.equal([f.id('b')]);
    // Its retry comes when due, and succeeds once the check passes.
    await writeFile(check, '');
    const retry = f.events.mark();
    f.clock.advance(100);
    const result = await f.events.wait('resource', retry, (e) => e.resource.id === f.id('a'));
    expect(result.outcome).to.equal('updated');
    expect(await f.read('a')).to.equal('/db=2\n');
  });

  it('a changed definition is rendered at once, unchanged ones are not touched, removed ones release their watch', async () => {
    await f.resource('a', { prefix: '/app', keys: ['/db'] });
    await f.resource('b', { prefix: '/web', keys: ['/x'] });
    f.store.change({ '/app/db': 'pg', '/web/x': '1', '/new/y': 'n' });
    const daemon = f.start();
    await f.started();
    const mark = f.events.mark();
    await f.resource('a', { prefix: '/app', keys: ['/db'], template: 'db is {{getv "/db"}}\n' });
    await f.removeResource('b');
    await f.resource('c', { prefix: '/new', keys: ['/y'] });
    await daemon.reload('signal');
    const config = await f.events.wait('config', mark);
    expect(config).to.deep.include({
      ok: true,
      added: [f.id('c')],
      removed: [f.id('b')],
      changed: [f.id('a')],
    });
    await f.events.until(() => f.events.of('resource', mark).length >= 2);
    expect(
      f.events
        .of('resource', mark)
        .map((e) => e.resource.id)
        .sort(),
    ).to.deep.equal([f.id('a'), f.id('c')]);
    expect(await f.read('a')).to.equal('db is pg\n');
    expect(f.store.releases).to.deep.equal(['/web']);
    expect(f.store.arms).to.include('/new');
  });

  it('rejects a reload with a bad file whole, naming file and line, and keeps running the old set', async () => {
    await f.resource('a', { prefix: '/app', keys: ['/db'] });
    const daemon = f.start();
    await f.started();
    const mark = f.events.mark();
    await f.resource('b', { prefix: '/web', keys: ['/x'] });
    await writeFile(join(f.dir, 'conf.d', 'broken.toml'), '[template]\nsrc = "x.hbs"\ndest = \n');
    await daemon.reload('signal');
    const config = await f.events.wait('config', mark);
    expect(config.ok).to.equal(false);
    expect(config.error?.message).to.include('broken.toml:3');
    expect(f.store.arms).not.to.include('/web');
    // The old set still follows its store.
    const after = f.events.mark();
    f.store.change({ '/app/db': 'still-watched' });
    await f.events.batches(after);
    expect(await f.read('a')).to.equal('/db=still-watched\n');
  });

  it('rejects a reload whose template does not compile', async () => {
    await f.resource('a', { prefix: '/app', keys: ['/db'] });
    const daemon = f.start();
    await f.started();
    const mark = f.events.mark();
    await f.resource('a', { prefix: '/app', keys: ['/db'], template: '{{#each}}' });
    await daemon.reload('files');
    const config = await f.events.wait('config', mark);
    expect(config.ok).to.equal(false);
    expect(config.error?.message).to.include('a.hbs');
  });

  it('swaps the store client on a reload that changes the backend, only once the new one answers', async () => {
    await f.resource('a', { prefix: '/app', keys: ['/db'] });
    f.store.change({ '/app/db': 'old' });
    const next = new FakeStore();
    next.change({ '/app/db': 'new' });
    let connectFails = true;
    const daemon = f.start({
      rereadSettings: async () => ({
        prefix: '',
        connect: async () => {
          if (connectFails) throw new Error('new store refused');
          return next;
        },
      }),
    });
    await f.started();
    let mark = f.events.mark();
    await daemon.reload('signal');
    expect((await f.events.wait('config', mark)).ok).to.equal(false);
    expect(daemon.storeClient).to.equal(f.store);
    connectFails = false;
    mark = f.events.mark();
    await daemon.reload('signal');
    expect((await f.events.wait('config', mark)).ok).to.equal(true);
    await f.events.batches(mark);
    expect(daemon.storeClient).to.equal(next);
    expect(await f.read('a')).to.equal('/db=new\n');
    expect(f.store.closed).to.equal(true);
    expect(next.arms).to.deep.equal(['/app']);
  });

  it('stops: lets the resource in flight finish, starts no other, releases every watch and resolves', async () => {
    const started = join(f.dir, 'started');
    const go = join(f.dir, 'go');
    const check = `touch ${started}; while [ ! -f ${go} ]; do sleep 0.02; done`;
    await f.resource('a', { prefix: '/app', keys: ['/db'], extra: `check_cmd = "${check}"` });
    await writeFile(go, '');
    f.start();
    await f.started();
    await rm(go);
    await rm(started);
    f.store.change({ '/app/db': 'in-flight' });
    await until(() => existsSync(started));
    f.stop.abort();
    // A change after the stop is not taken.
    f.store.change({ '/app/db': 'after-stop' });
    await writeFile(go, '');
    await f.halt();
    expect(await f.read('a')).to.equal('/db=in-flight\n');
    expect(f.store.releases).to.deep.equal(['/app']);
  });
});

describe('daemon (interval mode)', () => {
  let f: DaemonFixture;
  beforeEach(async () => {
    f = await DaemonFixture.create();
  });
  afterEach(() => f.close());

  it('renders every interval, re-reading conf.d first, without watching', async () => {
    await f.resource('a', { prefix: '/app', keys: ['/db'] });
    f.store.change({ '/app/db': '1' });
    f.start({ mode: 'interval', intervalMs: 1000 });
    await f.started();
    expect(f.store.arms).to.deep.equal([]);
    await f.resource('b', { prefix: '/app', keys: ['/db'] });
    f.store.data.set('/app/db', '2');
    const mark = f.events.mark();
    f.clock.advance(1000);
    await f.events.wait('resource', mark, (e) => e.resource.id === f.id('a'));
    expect(await f.read('a')).to.equal('/db=2\n');
    expect(await f.read('b')).to.equal('/db=2\n');
  });
});

/** Polls a condition the event stream cannot announce (a file a command creates). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(10);
}
