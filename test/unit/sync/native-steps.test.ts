import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError } from '../../../src/errors.js';
import { runNativeReload, runVerify } from '../../../src/sync/native-steps.js';
import { eventually, rejection } from '../../support/async.js';
import { RecordingLogger, quietLogger } from '../../support/loggers.js';

describe('native reload and verify', () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  let answer: { status: number; body: string; delayMs?: number } = { status: 200, body: '' };
  let dir: string;

  before(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      setTimeout(() => {
        res.statusCode = answer.status;
        res.end(answer.body);
      }, answer.delayMs ?? 0);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(() => new Promise<void>((ok) => server.close(() => ok())));
  beforeEach(async () => {
    seen.length = 0;
    answer = { status: 200, body: '' };
    dir = await mkdtemp(join(tmpdir(), 'confd-native-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const http = (method: string, path: string, timeoutMs = 5000) => ({
    kind: 'http' as const,
    method,
    url: `${base}${path}`,
    timeoutMs,
  });

  it('an HTTP reload succeeds on any 2xx, with its duration', async () => {
    answer = { status: 204, body: '' };
    const run = await runNativeReload(http('POST', '/-/reload'), quietLogger);
    expect(run.exitCode).to.equal(0);
    expect(seen).to.deep.equal(['POST /-/reload']);
  });

  it('an HTTP reload that answers 500 fails with the status only; the body goes to the debug log', async () => {
    answer = { status: 500, body: 'failed to reload config: password: s3cret' };
    const logger = new RecordingLogger();
    const err = await rejection<CommandError>(runNativeReload(http('POST', '/-/reload'), logger));
    expect(err).to.be.instanceOf(CommandError);
    expect(err.message).to.equal(`reload: POST ${base}/-/reload answered HTTP 500`);
    expect(err.message).not.to.include('s3cret');
    expect(logger.messages('debug').join('\n')).to.include('failed to reload config');
  });

  it('an HTTP reload that hangs fails at its timeout, as a timeout', async () => {
    answer = { status: 200, body: '', delayMs: 2000 };
    const err = await rejection<CommandError>(runNativeReload(http('POST', '/slow', 100), quietLogger));
    expect(err.timedOut).to.equal(true);
    expect(err.message).to.include('did not answer within 100 ms');
  });

  it('a signal reload signals the process named by the pid file; a missing process is an error', async () => {
    const marker = join(dir, 'hup');
    const ready = join(dir, 'ready');
    const fs = `require('fs')`;
    const child = spawn(process.execPath, [
      '-e',
      `process.on('SIGHUP', () => ${fs}.writeFileSync(${JSON.stringify(marker)}, 'x'));` +
        `${fs}.writeFileSync(${JSON.stringify(ready)}, 'x'); setInterval(() => {}, 1000);`,
    ]);
    try {
      await eventually(() => existsSync(ready), 'the child listening for SIGHUP');
      const pidFile = join(dir, 'app.pid');
      await writeFile(pidFile, `${child.pid}\n`);
      await runNativeReload({ kind: 'signal', signal: 'SIGHUP', pidFile, timeoutMs: 1000 }, quietLogger);
      await eventually(() => existsSync(marker), 'the child got SIGHUP');
      await writeFile(pidFile, '999999\n');
      const err = await rejection<CommandError>(
        runNativeReload({ kind: 'signal', signal: 'SIGHUP', pidFile, timeoutMs: 1000 }, quietLogger),
      );
      expect(err.message).to.include('no such process');
      const missing = await rejection<CommandError>(
        runNativeReload(
          { kind: 'signal', signal: 'SIGHUP', pidFile: join(dir, 'nope.pid'), timeoutMs: 1000 },
          quietLogger,
        ),
      );
      expect(missing.message).to.include('cannot read pid file');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('verify over HTTP checks the JSON field is true, and says what it found otherwise', async () => {
    const step = { ...http('GET', '/api/v1/status/runtimeinfo'), jsonField: 'data.reloadConfigSuccess' };
    answer = { status: 200, body: '{"status":"success","data":{"reloadConfigSuccess":true}}' };
    await runVerify(step, '/dest', quietLogger);
    answer = { status: 200, body: '{"data":{"reloadConfigSuccess":false}}' };
    expect((await rejection<Error>(runVerify(step, '/dest', quietLogger))).message).to.equal(
      `verify: data.reloadConfigSuccess in the answer of GET ${base}/api/v1/status/runtimeinfo is false, not true`,
    );
    answer = { status: 200, body: '{"data":{}}' };
    expect((await rejection<Error>(runVerify(step, '/dest', quietLogger))).message).to.include('is missing');
    answer = { status: 200, body: 'not json' };
    expect((await rejection<Error>(runVerify(step, '/dest', quietLogger))).message).to.include(
      'did not answer JSON',
    );
  });

  it('verify_cmd runs with {{.dest}} and fails on a non-zero exit', async () => {
    const out = join(dir, 'seen');
    await runVerify(
      { kind: 'cmd', command: `echo {{.dest}} > ${out}`, timeoutMs: 5000 },
      '/etc/app.conf',
      quietLogger,
    );
    expect(readFileSync(out, 'utf8')).to.equal('/etc/app.conf\n');
    const err = await rejection<CommandError>(
      runVerify({ kind: 'cmd', command: 'exit 7', timeoutMs: 5000 }, '/x', quietLogger),
    );
    expect(err.exitCode).to.equal(7);
  });
});
