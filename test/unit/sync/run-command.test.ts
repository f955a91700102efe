import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError } from '../../../src/errors.js';
import { runCommand, substituteVars } from '../../../src/sync/run-command.js';
import { RecordingLogger } from '../../support/loggers.js';
import { rejection } from '../../support/async.js';

/** Running, as opposed to gone or a zombie nobody has reaped yet (in containers PID 1 may never reap). */
async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('runCommand', () => {
  let dir: string;
  let logger: RecordingLogger;
  const vars = { src: '/tmp/stage', dest: '/etc/app.conf' };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-cmd-'));
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function commandError(promise: Promise<unknown>): Promise<CommandError> {
    const err = await rejection(promise);
    expect(err).to.be.instanceOf(CommandError);
    return err as CommandError;
  }

  it('substitutes {{.src}} and {{.dest}}, with or without spaces', () => {
    expect(substituteVars('check {{.src}} {{ .dest }} {{.src}}', vars)).to.equal(
      'check /tmp/stage /etc/app.conf /tmp/stage',
    );
    expect(substituteVars('echo $HOME {{.other}}', vars)).to.equal('echo $HOME {{.other}}');
  });

  it('runs the command through /bin/sh with the variables filled in', async () => {
    const out = join(dir, 'out');
    await runCommand(`echo "{{.src}}|{{ .dest }}" > ${out} && echo done`, vars, 10_000, logger, 'reload');
    expect(await readFile(out, 'utf8')).to.equal('/tmp/stage|/etc/app.conf\n');
    expect(logger.messages('debug').join('\n')).to.include('done');
  });

  it('throws a CommandError with the exit code and the tail of stderr', async () => {
    const err = await commandError(
      runCommand('echo noise; echo "syntax error on line 7" >&2; exit 4', vars, 10_000, logger, 'check'),
    );
    expect(err.exitCode).to.equal(4);
    expect(err.timedOut).to.equal(false);
    expect(err.message)
      .to.include('check command')
      .and.include('code 4')
      .and.include('syntax error on line 7');
    expect(err.output).to.include('noise');
  });

  it('on timeout kills the whole process group and says it timed out', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const err = await commandError(
      runCommand(`sleep 30 & echo $! > ${pidFile}; sleep 30`, vars, 300, logger, 'reload'),
    );
    expect(err.timedOut).to.equal(true);
    expect(err.message).to.include('timed out');
    const grandchild = Number((await readFile(pidFile, 'utf8')).trim());
    expect(grandchild).to.be.greaterThan(0);
    expect(await isRunning(grandchild)).to.equal(false);
  });

  it('does not wait for a background child that keeps stdout open', async () => {
    const pidFile = join(dir, 'background.pid');
    try {
      // If we waited for the pipe to close we would hit the 10 s timeout and throw.
      await runCommand(`sleep 30 & echo $! > ${pidFile}; echo started`, vars, 10_000, logger, 'reload');
      const background = Number((await readFile(pidFile, 'utf8')).trim());
      expect(await isRunning(background)).to.equal(true);
    } finally {
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '0')).trim());
      if (pid > 0) process.kill(pid, 'SIGKILL');
    }
  });

  it('kills a group member that ignores SIGTERM', async () => {
    const pidFile = join(dir, 'stubborn.pid');
    const err = await commandError(
      runCommand(
        `sh -c 'trap "" TERM; sleep 30' & echo $! > ${pidFile}; sleep 30`,
        vars,
        300,
        logger,
        'check',
      ),
    );
    expect(err.timedOut).to.equal(true);
    const stubborn = Number((await readFile(pidFile, 'utf8')).trim());
    expect(await isRunning(stubborn)).to.equal(false);
  });
});
