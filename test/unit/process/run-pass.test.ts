import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KVPairs, StoreClient, WatchResult } from '../../../src/backends/store-client.js';
import { runPass } from '../../../src/process/run-pass.js';
import { TemplateCache } from '../../../src/process/template-cache.js';
import type { TemplateResource } from '../../../src/resources/template-resource.js';
import { quietLogger } from '../../support/loggers.js';

/** A store that serves fixed values and lets a test act after each read. */
class RecordingStore implements StoreClient {
  reads = 0;
  constructor(
    private readonly values: KVPairs,
    private readonly afterRead: (reads: number) => void = () => {},
  ) {}
  async getValues(): Promise<KVPairs> {
    this.reads += 1;
    this.afterRead(this.reads);
    return this.values;
  }
  async watchPrefix(): Promise<WatchResult> {
    return { index: 1 };
  }
  async close(): Promise<void> {}
}

describe('runPass', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-pass-'));
    await writeFile(join(dir, 'app.hbs'), 'name={{getv "/app/name"}}\n');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const resource = (name: string, reloadCmd?: string): TemplateResource => ({
    file: join(dir, `${name}.toml`),
    src: join(dir, 'app.hbs'),
    dest: join(dir, `${name}.conf`),
    prefix: '/',
    keys: ['/app'],
    checkCmdTimeoutMs: 5000,
    reloadCmdTimeoutMs: 5000,
    ...(reloadCmd ? { reloadCmd } : {}),
  });
  const modes = { noop: false, syncOnly: false, keepStageFile: false };

  it('starts no further resource once aborted, but still reloads the one already written', async () => {
    const controller = new AbortController();
    const log = join(dir, 'reload.log');
    const store = new RecordingStore({ '/app/name': 'shop' }, () => controller.abort());
    const resources = ['a', 'b', 'c'].map((n) => resource(n, `echo {{.dest}} >> ${log}`));
    const results = await runPass(resources, {
      store,
      templates: new TemplateCache(),
      modes,
      logger: quietLogger,
      signal: controller.signal,
    });
    expect(store.reads).to.equal(1);
    expect(results.map((r) => r.status)).to.deep.equal(['updated']);
    expect(await readFile(log, 'utf8')).to.equal(`${join(dir, 'a.conf')}\n`);
  });

  it('runs a reload command shared by several updated resources once', async () => {
    const log = join(dir, 'reload.log');
    const store = new RecordingStore({ '/app/name': 'shop' });
    const resources = ['a', 'b'].map((n) => resource(n, `echo reload >> ${log}`));
    const results = await runPass(resources, {
      store,
      templates: new TemplateCache(),
      modes,
      logger: quietLogger,
    });
    expect(results.map((r) => r.status)).to.deep.equal(['updated', 'updated']);
    expect(await readFile(log, 'utf8')).to.equal('reload\n');
  });

  it('runs a failed reload again on the next pass of a daemon, though the file is now in sync', async () => {
    const store = new RecordingStore({ '/app/name': 'shop' });
    const ready = join(dir, 'service-ready');
    const log = join(dir, 'reload.log');
    const resources = [resource('a', `test -f ${ready} && echo reloaded >> ${log}`)];
    const ctx = {
      store,
      templates: new TemplateCache(),
      modes,
      logger: quietLogger,
      pendingReloads: new Set<string>(),
    };
    expect((await runPass(resources, ctx)).map((r) => r.status)).to.deep.equal(['failed']);
    await writeFile(ready, '');
    expect((await runPass(resources, ctx)).map((r) => r.status)).to.deep.equal(['in-sync']);
    expect(await readFile(log, 'utf8')).to.equal('reloaded\n');
    // Done: a third pass in sync runs no reload.
    await runPass(resources, ctx);
    expect(await readFile(log, 'utf8')).to.equal('reloaded\n');
  });

  it('marks every resource sharing a failed reload as failed, keeping their new files', async () => {
    const store = new RecordingStore({ '/app/name': 'shop' });
    const resources = ['a', 'b'].map((n) => resource(n, 'exit 4'));
    const results = await runPass(resources, {
      store,
      templates: new TemplateCache(),
      modes,
      logger: quietLogger,
    });
    expect(results.map((r) => r.status)).to.deep.equal(['failed', 'failed']);
    expect(await readFile(join(dir, 'a.conf'), 'utf8')).to.equal('name=shop\n');
  });
});
