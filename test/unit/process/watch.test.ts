import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { WaitWindow } from '../../../src/config/wait-window.js';
import type { ResourceResult } from '../../../src/process/process-resource.js';
import type { PassContext } from '../../../src/process/run-pass.js';
import { runPass } from '../../../src/process/run-pass.js';
import { TemplateCache } from '../../../src/process/template-cache.js';
import type { WatchOptions } from '../../../src/process/watch.js';
import { runWatch } from '../../../src/process/watch.js';
import type { TemplateResource } from '../../../src/resources/template-resource.js';
import { RecordingLogger } from '../../support/loggers.js';
import { FakeClock, settle } from './support/fake-clock.js';
import { FakeStore } from './support/fake-store.js';

const MODES = { noop: false, syncOnly: false, keepStageFile: false };

function resource(name: string, prefix: string, keys: string[], extra: Partial<TemplateResource> = {}) {
  const r: TemplateResource = {
    file: `/conf.d/${name}.toml`,
    src: `/templates/${name}.hbs`,
    dest: `/out/${name}`,
    prefix,
    keys,
    checkCmdTimeoutMs: 1000,
    reloadCmdTimeoutMs: 1000,
    ...extra,
  };
  return r;
}

/** Runs the processor over a fake store and clock; batches are recorded by name instead of rendered. */
function startWatch(resources: TemplateResource[], options: WatchOptions = {}) {
  const store = new FakeStore();
  const clock = new FakeClock();
  const logger = new RecordingLogger();
  const controller = new AbortController();
  const batches: string[][] = [];
  const failing = new Set<string>();
  const pass = async (batch: readonly TemplateResource[]): Promise<ResourceResult[]> => {
    batches.push(batch.map((r) => basename(r.dest)));
    return batch.map((r) => ({ resource: r, status: failing.has(basename(r.dest)) ? 'failed' : 'updated' }));
  };
  const ctx: PassContext = { store, templates: new TemplateCache(), modes: MODES, logger };
  const running = runWatch(resources, ctx, controller.signal, { clock, random: () => 0.5, pass, ...options });
  return {
    store,
    clock,
    logger,
    batches,
    failing,
    /** Batches after the first (the initial render of everything). */
    later: () => batches.slice(1),
    async stop() {
      controller.abort();
      await running;
    },
  };
}

describe('watch processor', () => {
  const app = [
    resource('a', '/app', ['/db', '/cache']),
    resource('b', '/app', ['/web']),
    resource('c', '/', ['/global/x', '/other']),
    resource('d', '/app/db', ['/']),
  ];

  it('arms one watch per root prefix, then renders every resource once in conf.d order', async () => {
    const w = startWatch(app);
    await settle();
    expect(w.batches).to.deep.equal([['a', 'b', 'c', 'd']]);
    const arms = w.store.watchCalls.filter((c) => c.waitIndex === 0);
    expect(arms.map((c) => c.prefix)).to.deep.equal(['/app', '/global/x', '/other']);
    expect(arms[0]?.keys).to.deep.equal(['/app/cache', '/app/db', '/app/web']);
    // Then one wait per root, each passing the index its arm returned.
    const waits = w.store.watchCalls.filter((c) => c.waitIndex !== 0);
    expect(waits.map((c) => [c.prefix, c.waitIndex])).to.deep.equal([
      ['/app', 10],
      ['/global/x', 10],
      ['/other', 10],
    ]);
    await w.stop();
  });

  it('re-renders only the resources whose keys cover a changed key', async () => {
    const w = startWatch(app);
    await settle();
    w.store.change({ '/app/db/host': 'h1' });
    await settle();
    expect(w.later()).to.deep.equal([['a', 'd']]);
    w.store.change({ '/app/dbx': 'no one reads this' });
    await settle();
    expect(w.later()).to.have.length(1);
    w.store.change({ '/other/z': '1' });
    await settle();
    expect(w.later()).to.deep.equal([['a', 'd'], ['c']]);
    // A subtree deleted above the keys counts as a change to each of them.
    w.store.change({ '/app': undefined });
    await settle();
    expect(w.later()).to.deep.equal([['a', 'd'], ['c'], ['a', 'b', 'd']]);
    await w.stop();
  });

  it('re-renders every resource of a root when the store cannot say what changed', async () => {
    const w = startWatch(app);
    await settle();
    w.store.changeUnknown();
    await settle();
    expect(w.later().flat().sort()).to.deep.equal(['a', 'b', 'c', 'd']);
    await w.stop();
  });

  describe('with a wait window', () => {
    const wait: WaitWindow = { minMs: 2000, maxMs: 10000 };

    it('renders a burst once, min after the last change', async () => {
      const w = startWatch(app, { wait });
      await settle();
      w.store.change({ '/app/db/host': '1' });
      await w.clock.advance(1000);
      w.store.change({ '/app/db/host': '2' });
      await w.clock.advance(1500);
      w.store.change({ '/app/db/port': '3' });
      await w.clock.advance(1999);
      expect(w.later()).to.deep.equal([]);
      await w.clock.advance(1);
      expect(w.later()).to.deep.equal([['a', 'd']]);
      await w.clock.advance(20000);
      expect(w.later()).to.have.length(1);
      await w.stop();
    });

    it('renders no later than max after the first change of a burst that goes on', async () => {
      const w = startWatch(app, { wait });
      await settle();
      w.store.change({ '/app/db/host': '0' });
      for (let i = 1; i <= 6; i++) {
        await w.clock.advance(1500);
        w.store.change({ '/app/db/host': String(i) });
      }
      // Last change at 9000 ms; min would put the render at 11000, max caps it at 10000.
      await w.clock.advance(999);
      expect(w.later()).to.deep.equal([]);
      await w.clock.advance(1);
      expect(w.later()).to.deep.equal([['a', 'd']]);
      await w.stop();
    });

    it("lets a resource's own wait override the global one", async () => {
      const resources = [resource('fast', '/app', ['/db'], { wait: { minMs: 0, maxMs: 0 } }), app[3]!];
      const w = startWatch(resources, { wait });
      await settle();
      w.store.change({ '/app/db/host': '1' });
      await settle();
      expect(w.later()).to.deep.equal([['fast']]);
      await w.clock.advance(2000);
      expect(w.later()).to.deep.equal([['fast'], ['d']]);
      await w.stop();
    });
  });

  it('backs off with growing delays while the store is down, then resyncs the root', async () => {
    const resources = [resource('a', '/app', ['/db']), resource('b', '/app', ['/web'])];
    const w = startWatch(resources);
    await settle();
    w.store.breakConnection(3);
    await settle();
    // Backoff steps 500, 1000, 2000, 4000 ms with the jitter source at 0.5: three quarters of each.
    for (const delay of [375, 750, 1500, 3000]) {
      expect(w.later()).to.deep.equal([]);
      await w.clock.advance(delay);
    }
    expect(w.clock.sleeps.filter((ms) => Number.isFinite(ms) && ms < 60000)).to.deep.equal([
      375, 750, 1500, 3000,
    ]);
    expect(w.later()).to.deep.equal([['a', 'b']]);
    expect(w.logger.messages('warn').filter((m) => m.includes('retrying in'))).to.have.length(4);
    expect(w.logger.messages('warn')[0]).to.contain('fake store: connection lost');
    // The re-armed watch reports changes again, and the backoff starts over on the next failure.
    w.store.change({ '/app/web/port': '80' });
    await settle();
    expect(w.later()).to.deep.equal([['a', 'b'], ['b']]);
    w.store.breakConnection(0);
    await settle();
    expect(w.clock.sleeps.filter(Number.isFinite).at(-1)).to.equal(375);
    await w.stop();
  });

  it('renders at start even when the store cannot be watched yet, and again once it can', async () => {
    const resources = [resource('a', '/app', ['/db'])];
    const store = new FakeStore();
    const clock = new FakeClock();
    store.breakConnection(1);
    const batches: number[] = [];
    const controller = new AbortController();
    const ctx = { store, templates: new TemplateCache(), modes: MODES, logger: new RecordingLogger() };
    const pass = async (batch: readonly TemplateResource[]): Promise<ResourceResult[]> => {
      batches.push(batch.length);
      return batch.map((r) => ({ resource: r, status: 'updated' }));
    };
    const running = runWatch(resources, ctx, controller.signal, { clock, random: () => 0, pass });
    await settle();
    expect(batches).to.deep.equal([1]);
    await clock.advance(250);
    expect(batches).to.deep.equal([1, 1]);
    controller.abort();
    await running;
  });

  it('retries a failed resource with the next batch, whatever change triggers it', async () => {
    const resources = [resource('a', '/app', ['/db']), resource('b', '/app', ['/web'])];
    const w = startWatch(resources);
    w.failing.add('b');
    await settle();
    w.store.change({ '/app/db/host': '1' });
    await settle();
    expect(w.later()).to.deep.equal([['a', 'b']]);
    w.failing.delete('b');
    w.store.change({ '/app/db/host': '2' });
    await settle();
    w.store.change({ '/app/db/host': '3' });
    await settle();
    // b recovered in the second of these batches, so the third leaves it alone.
    expect(w.later()).to.deep.equal([['a', 'b'], ['a', 'b'], ['a']]);
    await w.stop();
  });

  it('retries a failed resource on its own, with growing delays, when no change comes', async () => {
    const w = startWatch([resource('a', '/app', ['/db']), resource('b', '/app', ['/web'])]);
    w.failing.add('b');
    await settle();
    expect(w.later()).to.deep.equal([]);
    await w.clock.advance(375);
    expect(w.later()).to.deep.equal([['b']]);
    await w.clock.advance(749);
    expect(w.later()).to.deep.equal([['b']]);
    w.failing.delete('b');
    await w.clock.advance(1);
    expect(w.later()).to.deep.equal([['b'], ['b']]);
    // Recovered: no further retries.
    await w.clock.advance(60_000);
    expect(w.later()).to.deep.equal([['b'], ['b']]);
    await w.stop();
  });

  it('keeps backing off when arming works but every wait fails at once', async () => {
    const w = startWatch([resource('a', '/app', ['/db'])]);
    await settle();
    w.store.dropWaits = true;
    w.store.change({ '/app/db/x': '1' });
    await settle();
    for (const delay of [375, 750, 1500, 3000]) await w.clock.advance(delay);
    expect(w.clock.sleeps.filter((ms) => Number.isFinite(ms) && ms < 60000)).to.deep.equal([
      375, 750, 1500, 3000, 6000,
    ]);
    await w.stop();
  });

  it('re-renders everything every resync interval', async () => {
    const w = startWatch(app, { resyncIntervalMs: 60000 });
    await settle();
    await w.clock.advance(59999);
    expect(w.later()).to.deep.equal([]);
    await w.clock.advance(1);
    expect(w.later()).to.deep.equal([['a', 'b', 'c', 'd']]);
    await w.clock.advance(60000);
    expect(w.later()).to.have.length(2);
    await w.stop();
  });

  it('on abort lets the batch in flight finish, then stops watching', async () => {
    const store = new FakeStore();
    const controller = new AbortController();
    let finishBatch!: () => void;
    let batches = 0;
    const pass = async (batch: readonly TemplateResource[]): Promise<ResourceResult[]> => {
      batches += 1;
      if (batches === 2) await new Promise<void>((resolve) => (finishBatch = resolve));
      return batch.map((r) => ({ resource: r, status: 'updated' }));
    };
    const ctx = { store, templates: new TemplateCache(), modes: MODES, logger: new RecordingLogger() };
    const running = runWatch(app, ctx, controller.signal, { clock: new FakeClock(), pass });
    let stopped = false;
    void running.then(() => (stopped = true));
    await settle();
    store.change({ '/app/web/x': '1' });
    await settle();
    expect(batches).to.equal(2);
    controller.abort();
    await settle();
    expect(stopped).to.equal(false);
    finishBatch();
    await running;
    const calls = store.watchCalls.length;
    store.change({ '/app/web/x': '2' });
    await settle();
    expect(batches).to.equal(2);
    expect(store.watchCalls).to.have.length(calls);
  });

  it('returns at once, rendering nothing, when started with an aborted signal', async () => {
    const store = new FakeStore();
    let batches = 0;
    const pass = async (batch: readonly TemplateResource[]): Promise<ResourceResult[]> => {
      batches += 1;
      return batch.map((r) => ({ resource: r, status: 'updated' }));
    };
    const ctx = { store, templates: new TemplateCache(), modes: MODES, logger: new RecordingLogger() };
    await runWatch(app, ctx, AbortSignal.abort(), { clock: new FakeClock(), pass });
    expect(batches).to.equal(0);
    expect(store.watchCalls).to.deep.equal([]);
  });

  describe('with real rendering (runPass)', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'confd-watch-unit-'));
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it('turns a burst under -wait into one render per resource and one shared reload', async () => {
      await writeFile(join(dir, 'one.hbs'), 'host={{getv "/db/host"}}\n');
      await writeFile(join(dir, 'two.hbs'), 'port={{getv "/db/port"}}\n');
      const reloadCmd = `echo reload >> '${join(dir, 'reloads')}'`;
      const shared = { reloadCmd, checkCmdTimeoutMs: 5000, reloadCmdTimeoutMs: 5000 };
      const resources = ['one', 'two'].map((name) =>
        resource(name, '/app', ['/db'], {
          ...shared,
          src: join(dir, `${name}.hbs`),
          dest: join(dir, `${name}.conf`),
        }),
      );
      const store = new FakeStore();
      Object.assign(store.data, { '/app/db/host': 'h0', '/app/db/port': '0' });
      const clock = new FakeClock();
      const controller = new AbortController();
      let passes = 0;
      const pass = async (batch: readonly TemplateResource[], ctx: PassContext) => {
        const results = await runPass(batch, ctx);
        passes += 1;
        return results;
      };
      const ctx = { store, templates: new TemplateCache(), modes: MODES, logger: new RecordingLogger() };
      const running = runWatch(resources, ctx, controller.signal, {
        clock,
        pass,
        wait: { minMs: 1000, maxMs: 5000 },
      });
      const passesReach = async (n: number) => {
        for (let i = 0; i < 500 && passes < n; i++) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(passes).to.equal(n);
      };
      await passesReach(1);
      for (let i = 1; i <= 5; i++) {
        store.change({ '/app/db/host': `h${i}`, '/app/db/port': String(i) });
        await clock.advance(100);
      }
      expect(passes).to.equal(1);
      await clock.advance(1000);
      await passesReach(2);
      controller.abort();
      await running;
      expect(await readFile(join(dir, 'one.conf'), 'utf8')).to.equal('host=h5\n');
      expect(await readFile(join(dir, 'two.conf'), 'utf8')).to.equal('port=5\n');
      // Initial render plus the burst: each resource read twice, one reload each time.
      expect(store.reads).to.have.length(4);
      expect(await readFile(join(dir, 'reloads'), 'utf8')).to.equal('reload\nreload\n');
    });
  });
});
