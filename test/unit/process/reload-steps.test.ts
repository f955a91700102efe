import { expect } from 'chai';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../../src/events/event-bus.js';
import type { LoadedResource } from '../../../src/process/load-config.js';
import { runBatch, type BatchContext } from '../../../src/process/run-batch.js';
import type { TemplateResource } from '../../../src/resources/template-resource.js';
import { compileTemplate } from '../../../src/template/compile-template.js';
import { quietLogger } from '../../support/loggers.js';
import { EventRecorder } from './support/event-recorder.js';
import { FakeStore } from './support/fake-store.js';

/**
 * The workflow after the syncs of a batch: a native reload once per distinct target, the verification,
 * and the rollback that restores the previous file and reloads again when either fails.
 */
describe('reload, verify and rollback (runBatch)', () => {
  let dir: string;
  let store: FakeStore;
  let recorder: EventRecorder;
  let events: EventBus;
  let server: Server;
  let base: string;
  const requests: string[] = [];
  /** Status the fake consumer answers a reload with; the verify answers whether the last reload worked. */
  let reloadStatus = 200;
  let lastReloadOk = true;

  type Handler = (req: IncomingMessage, res: ServerResponse) => void;
  /** The fake consumer: answers reloads with reloadStatus, and verifications with the last reload's result. */
  const consumer: Handler = (req, res) => {
    if (req.url === '/-/reload') {
      lastReloadOk = reloadStatus < 300;
      res.statusCode = reloadStatus;
      res.end(lastReloadOk ? '' : 'failed to reload config');
    } else {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { reloadConfigSuccess: lastReloadOk } }));
    }
  };
  let handler: Handler = consumer;

  before(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      handler(req, res);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(() => new Promise<void>((ok) => server.close(() => ok())));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-reload-steps-'));
    await writeFile(join(dir, 'app.hbs'), 'jobs={{getv "/p/jobs"}}\n');
    store = new FakeStore();
    store.data.set('/p/jobs', 'new');
    events = new EventBus();
    recorder = new EventRecorder(events);
    requests.length = 0;
    reloadStatus = 200;
    lastReloadOk = true;
    handler = consumer;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function loaded(name: string, extra: Partial<TemplateResource> = {}): Promise<LoadedResource> {
    const resource: TemplateResource = {
      file: join(dir, `${name}.toml`),
      src: join(dir, 'app.hbs'),
      dest: join(dir, `${name}.yml`),
      prefix: '/',
      keys: ['/p'],
      checkCmdTimeoutMs: 5000,
      reloadCmdTimeoutMs: 5000,
      nativeReload: { kind: 'http', method: 'POST', url: `${base}/-/reload`, timeoutMs: 5000 },
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
  const ctx = (): BatchContext => ({
    store,
    modes: { noop: false, syncOnly: false, keepStageFile: false },
    logger: quietLogger,
    events,
  });
  const verify = () => ({
    kind: 'http' as const,
    method: 'GET',
    url: `${base}/api/v1/status/runtimeinfo`,
    jsonField: 'data.reloadConfigSuccess',
    timeoutMs: 5000,
  });

  it('one native reload for the resources sharing its URL, then the verification', async () => {
    const results = await runBatch(
      [await loaded('a', { verify: verify() }), await loaded('b', { verify: verify() })],
      ctx(),
    );
    expect(results.map((r) => r.outcome)).to.deep.equal(['updated', 'updated']);
    expect(requests).to.deep.equal(['POST /-/reload', 'GET /api/v1/status/runtimeinfo']);
    expect(recorder.of('reload').map((e) => [e.step, e.ok])).to.deep.equal([
      ['reload', true],
      ['verify', true],
    ]);
  });

  it('rollback: a reload answering 500 restores the previous file byte for byte, reloads again, fails with reason reload', async () => {
    const a = await loaded('a', { rollback: true });
    await writeFile(a.resource.dest, 'jobs=old\n');
    await chmod(a.resource.dest, 0o640);
    reloadStatus = 500;
    const [result] = await runBatch([a], ctx());
    expect(result).to.deep.include({ outcome: 'failed', reason: 'reload' });
    expect(await readFile(a.resource.dest, 'utf8')).to.equal('jobs=old\n');
    expect((await stat(a.resource.dest)).mode & 0o777).to.equal(0o640);
    expect(requests).to.deep.equal(['POST /-/reload', 'POST /-/reload']);
    const reloads = recorder.of('reload');
    expect(reloads.map((e) => [e.step, e.ok, e.afterRollback ?? false])).to.deep.equal([
      ['reload', false, false],
      ['reload', false, true],
    ]);
    expect(reloads[1]?.rolledBack?.map((r) => r.dest)).to.deep.equal([a.resource.dest]);
    expect(recorder.of('resource')[0]).to.deep.include({ outcome: 'failed', reason: 'reload' });
  });

  it('rollback on a failed verification: reason verify, previous file back, consumer reloaded with it', async () => {
    const a = await loaded('a', { rollback: true, verify: verify() });
    await writeFile(a.resource.dest, 'jobs=old\n');
    // The consumer accepts the reload request but reports the config as not loaded.
    handler = (req, res) => res.end(req.url === '/-/reload' ? '' : '{"data":{"reloadConfigSuccess":false}}');
    const [result] = await runBatch([a], ctx());
    expect(result).to.deep.include({ outcome: 'failed', reason: 'verify' });
    expect(result?.error?.message).to.include('data.reloadConfigSuccess');
    expect(await readFile(a.resource.dest, 'utf8')).to.equal('jobs=old\n');
    expect(requests).to.deep.equal(['POST /-/reload', 'GET /api/v1/status/runtimeinfo', 'POST /-/reload']);
  });

  it('without rollback a failed reload keeps the new file and fails with reason reload', async () => {
    const a = await loaded('a');
    await writeFile(a.resource.dest, 'jobs=old\n');
    reloadStatus = 500;
    const [result] = await runBatch([a], ctx());
    expect(result).to.deep.include({ outcome: 'failed', reason: 'reload' });
    expect(await readFile(a.resource.dest, 'utf8')).to.equal('jobs=new\n');
    expect(requests).to.deep.equal(['POST /-/reload']);
  });

  it('a rollback of a file that did not exist removes it', async () => {
    const a = await loaded('a', { rollback: true });
    reloadStatus = 500;
    await runBatch([a], ctx());
    expect(await readFile(a.resource.dest, 'utf8').catch(() => 'absent')).to.equal('absent');
  });

  it('a guard refusal fails the resource with reason guard and no reload', async () => {
    const a = await loaded('a', { guard: { refuseEmpty: false, requiredKeys: ['/p/missing'] } });
    await writeFile(a.resource.dest, 'jobs=old\n');
    const [result] = await runBatch([a], ctx());
    expect(result).to.deep.include({ outcome: 'failed', reason: 'guard' });
    expect(result?.event.refusal).to.equal('required_keys: nothing in the store at /p/missing');
    expect(await readFile(a.resource.dest, 'utf8')).to.equal('jobs=old\n');
    expect(requests).to.deep.equal([]);
  });
});
