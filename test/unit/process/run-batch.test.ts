import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackendError } from '../../../src/errors.js';
import { EventBus } from '../../../src/events/event-bus.js';
import type { LoadedResource } from '../../../src/process/load-config.js';
import { runBatch, type BatchContext } from '../../../src/process/run-batch.js';
import type { TemplateResource } from '../../../src/resources/template-resource.js';
import { compileTemplate } from '../../../src/template/compile-template.js';
import { quietLogger } from '../../support/loggers.js';
import { EventRecorder } from './support/event-recorder.js';
import { FakeStore } from './support/fake-store.js';

describe('runBatch', () => {
  let dir: string;
  let store: FakeStore;
  let events: EventBus;
  let recorder: EventRecorder;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-batch-'));
    await writeFile(join(dir, 'app.hbs'), 'name={{getv "/app/name"}}\n');
    store = new FakeStore();
    store.data.set('/app/name', 'shop');
    events = new EventBus();
    recorder = new EventRecorder(events);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function loaded(name: string, extra: Partial<TemplateResource> = {}): Promise<LoadedResource> {
    const resource: TemplateResource = {
      file: join(dir, `${name}.toml`),
      src: join(dir, 'app.hbs'),
      dest: join(dir, `${name}.conf`),
      prefix: '/',
      keys: ['/app'],
      checkCmdTimeoutMs: 5000,
      reloadCmdTimeoutMs: 5000,
      ...extra,
    };
    const keys = [...resource.keys];
    return {
      id: resource.file,
      resource,
      template: await compileTemplate(resource.src),
      keys,
      fingerprint: { definition: name, templateText: '' },
      ref: { id: resource.file, src: resource.src, dest: resource.dest, keys },
    };
  }
  const ctx = (extra: Partial<BatchContext> = {}): BatchContext => ({
    store,
    modes: { noop: false, syncOnly: false, keepStageFile: false },
    logger: quietLogger,
    events,
    ...extra,
  });

  it('reads the store ONCE for the whole batch, the union of every resource’s keys', async () => {
    const resources = [
      await loaded('a'),
      await loaded('b', { keys: ['/app', '/shared'] }),
      await loaded('c', { keys: ['/other'] }),
    ];
    await runBatch(resources, ctx());
    expect(store.reads).to.deep.equal([['/app', '/other', '/shared']]);
  });

  it('fails every resource of the batch with reason "store" when the read fails, touching no file', async () => {
    store.readError = new BackendError('etcd: down', 'etcd');
    const results = await runBatch([await loaded('a'), await loaded('b')], ctx());
    expect(results.map((r) => [r.outcome, r.reason])).to.deep.equal([
      ['failed', 'store'],
      ['failed', 'store'],
    ]);
    expect(recorder.of('resource').map((e) => e.outcome)).to.deep.equal(['failed', 'failed']);
  });

  it('starts no further resource once stopped, but still reloads the ones already written', async () => {
    const controller = new AbortController();
    const log = join(dir, 'reload.log');
    const gate = join(dir, 'gate');
    const started = join(dir, 'started');
    // a is in flight (its check waits on the gate) when the stop comes; b shares its dest, so it waits.
    const a = await loaded('a', {
      checkCmd: `touch ${started}; while [ ! -f ${gate} ]; do sleep 0.02; done`,
      reloadCmd: `echo {{.dest}} >> ${log}`,
    });
    const b = await loaded('b', { dest: a.resource.dest, reloadCmd: `echo b >> ${log}` });
    const running = runBatch([a, b], ctx({ signal: controller.signal }));
    while (!existsSync(started)) await sleep(10);
    controller.abort();
    await writeFile(gate, '');
    const results = await running;
    expect(results.map((r) => r.outcome)).to.deep.equal(['updated']);
    expect(await readFile(log, 'utf8')).to.equal(`${a.resource.dest}\n`);
  });

  it('runs a reload command shared by several updated resources once, with one reload event', async () => {
    const log = join(dir, 'reload.log');
    const resources = [
      await loaded('a', { reloadCmd: `echo reload >> ${log}` }),
      await loaded('b', { reloadCmd: `echo reload >> ${log}` }),
    ];
    const results = await runBatch(resources, ctx());
    expect(results.map((r) => r.outcome)).to.deep.equal(['updated', 'updated']);
    expect(await readFile(log, 'utf8')).to.equal('reload\n');
    const reloads = recorder.of('reload');
    expect(reloads).to.have.length(1);
    expect(reloads[0]?.ok).to.equal(true);
    expect(reloads[0]?.resources.map((r) => r.dest)).to.deep.equal(resources.map((r) => r.resource.dest));
  });

  it('runs a failed reload again in the next batch of a daemon, though the file is now in sync', async () => {
    const ready = join(dir, 'service-ready');
    const log = join(dir, 'reload.log');
    const resources = [await loaded('a', { reloadCmd: `test -f ${ready} && echo reloaded >> ${log}` })];
    const context = ctx({ pendingReloads: new Set<string>() });
    expect((await runBatch(resources, context)).map((r) => r.outcome)).to.deep.equal(['failed']);
    await writeFile(ready, '');
    expect((await runBatch(resources, context)).map((r) => r.outcome)).to.deep.equal(['in_sync']);
    expect(await readFile(log, 'utf8')).to.equal('reloaded\n');
    // Done: a third batch in sync runs no reload.
    await runBatch(resources, context);
    expect(await readFile(log, 'utf8')).to.equal('reloaded\n');
  });

  it('marks every resource sharing a failed reload as failed with reason "reload", keeping their new files', async () => {
    const resources = [
      await loaded('a', { reloadCmd: 'exit 4' }),
      await loaded('b', { reloadCmd: 'exit 4' }),
    ];
    const results = await runBatch(resources, ctx());
    expect(results.map((r) => [r.outcome, r.reason])).to.deep.equal([
      ['failed', 'reload'],
      ['failed', 'reload'],
    ]);
    expect(recorder.of('resource').map((e) => e.reason)).to.deep.equal(['reload', 'reload']);
    expect(await readFile(join(dir, 'a.conf'), 'utf8')).to.equal('name=shop\n');
  });

  it('names the failure: a missing key is "missing_key" and lists the key', async () => {
    await writeFile(join(dir, 'missing.hbs'), '{{getv "/app/nope"}}\n');
    const resource = await loaded('a', { src: join(dir, 'missing.hbs') });
    const [result] = await runBatch([resource], ctx());
    expect(result?.reason).to.equal('missing_key');
    expect(result?.event.missingKeys).to.deep.equal(['/app/nope']);
  });

  it('renders resources of one dest one after the other, in order: the last one wins', async () => {
    await writeFile(join(dir, 'other.hbs'), 'other\n');
    const a = await loaded('a');
    const b = await loaded('b', { dest: a.resource.dest, src: join(dir, 'other.hbs') });
    await runBatch([a, b], ctx());
    expect(await readFile(a.resource.dest, 'utf8')).to.equal('other\n');
  });

  it('gives a resource sharing a dest what the one before it wrote, not the file as it was at the start', async () => {
    const a = await loaded('a');
    const b = await loaded('b', { dest: a.resource.dest });
    const results = await runBatch([a, b], ctx());
    expect(results.map((r) => r.outcome)).to.deep.equal(['updated', 'in_sync']);
  });

  it('reports a dest that cannot be read on its resource, and nowhere when the store read failed', async () => {
    const a = await loaded('a', { dest: dir });
    const b = await loaded('b');
    const results = await runBatch([a, b], ctx());
    expect(results.map((r) => r.outcome)).to.deep.equal(['failed', 'updated']);
    expect(results[0]?.error?.message).to.contain('not a regular file');
    store.readError = new BackendError('etcd: down', 'etcd');
    const again = await runBatch([a], ctx());
    expect(again.map((r) => r.reason)).to.deep.equal(['store']);
  });
});
