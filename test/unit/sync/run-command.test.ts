import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError } from '../../../src/errors.js';
import { COMMAND_CONCURRENCY, runCommand, substituteVars } from '../../../src/sync/run-command.js';
import { eventually, rejection } from '../../support/async.js';
import { RecordingLogger } from '../../support/loggers.js';
import { allGone, isGone, killAll, readPids } from '../../support/processes.js';

describe('runCommand', () => {
  let dir: string;
  let logger: RecordingLogger;
  let leftovers: number[];
  const vars = { src: '/tmp/stage', dest: '/etc/app.conf' };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confd-cmd-'));
    logger = new RecordingLogger();
    leftovers = [];
  });
  afterEach(async () => {
    killAll(leftovers);
    await rm(dir, { recursive: true, force: true });
  });

  async function commandError(promise: Promise<unknown>): Promise<CommandError> {
    const err = await rejection(promise);
    expect(err).to.be.instanceOf(CommandError);
    return err as CommandError;
  }

  /** The pids the command wrote to `file` once it has written `count` of them. */
  async function pidsFrom(file: string, count: number): Promise<number[]> {
    await eventually(
      async () => (await readFile(file, 'utf8').catch(() => '')).split(/\s+/).filter(Boolean).length >= count,
      `${count} pids in ${file}`,
    );
    const pids = await readPids(file);
    leftovers.push(...pids);
    return pids;
  }

  describe('substitution of {{.src}} and {{.dest}}', () => {
    it('inserts safe paths verbatim, with or without spaces in the braces', () => {
      expect(substituteVars('check {{.src}} {{ .dest }} {{.src}}', vars)).to.equal(
        'check /tmp/stage /etc/app.conf /tmp/stage',
      );
      expect(substituteVars('x {{.src}}', { src: 'a/b-c_d.e,f:g@h%i+j=k', dest: '' })).to.equal(
        'x a/b-c_d.e,f:g@h%i+j=k',
      );
    });

    it('leaves everything else alone', () => {
      expect(substituteVars('echo $HOME {{.other}} {{src}}', vars)).to.equal('echo $HOME {{.other}} {{src}}');
    });

    it('quotes an unsafe path for where it stands: unquoted, in single or in double quotes', () => {
      const awkward = { src: "/x/it's here", dest: '/x/$(a) "b" `c` \\d' };
      expect(substituteVars('cat {{.src}}', awkward)).to.equal(`cat '/x/it'\\''s here'`);
      expect(substituteVars("cat '{{.src}}'", awkward)).to.equal(`cat '/x/it'\\''s here'`);
      expect(substituteVars('cat "{{.dest}}"', awkward)).to.equal('cat "/x/\\$(a) \\"b\\" \\`c\\` \\\\d"');
      // A command substitution starts unquoted again, even inside double quotes.
      expect(substituteVars('echo "$(basename {{.src}})"', awkward)).to.equal(
        `echo "$(basename '/x/it'\\''s here')"`,
      );
      expect(substituteVars('echo "$( (true) ; cat {{.src}})" {{.src}}', awkward)).to.equal(
        `echo "$( (true) ; cat '/x/it'\\''s here')" '/x/it'\\''s here'`,
      );
    });

    // The paths are real: a dest with a space, a quote, $(...), backquotes and ; in its name.
    const hostile = ` it's $(touch PWNED1); touch PWNED2; \`touch PWNED3\` "q" \\ x.conf`;
    const forms = {
      unquoted: 'printf "%s\\n" {{.dest}} > {{.src}}',
      'single-quoted': "printf '%s\\n' '{{.dest}}' > '{{.src}}'",
      'double-quoted': 'printf "%s\\n" "{{.dest}}" > "{{.src}}"',
      'in $(...) in double quotes': 'printf "%s\\n" "$(printf "%s" {{.dest}})" > {{.src}}',
    };
    for (const [form, command] of Object.entries(forms)) {
      it(`passes a hostile dest as one word and runs nothing from it (${form})`, async () => {
        const dest = join(dir, hostile);
        const out = join(dir, 'out dir; $(x)');
        await runCommand(command, { src: out, dest }, 10_000, logger, 'check', undefined);
        expect(await readFile(out, 'utf8')).to.equal(`${dest}\n`);
        const files = await readdir(dir);
        expect(files.filter((f) => f.includes('PWNED'))).to.deep.equal([]);
        for (const name of ['PWNED1', 'PWNED2', 'PWNED3'])
          expect(existsSync(join(process.cwd(), name))).to.equal(false);
      });
    }
  });

  it('runs the command through /bin/sh, logs it substituted at debug, and reports exit code and duration', async () => {
    const out = join(dir, 'out');
    const result = await runCommand(
      `echo "{{.src}}|{{ .dest }}" > ${out} && echo done`,
      vars,
      10_000,
      logger,
      'reload',
    );
    expect(await readFile(out, 'utf8')).to.equal('/tmp/stage|/etc/app.conf\n');
    expect(result.exitCode).to.equal(0);
    expect(result.durationMs).to.be.a('number').and.at.least(0);
    const debug = logger.messages('debug').join('\n');
    expect(debug).to.include(`running reload command: echo "/tmp/stage|/etc/app.conf" > ${out}`);
    expect(debug).to.include('done');
  });

  it('on failure names the exit code and the command as configured, and keeps the output out of the message', async () => {
    // The check reads the rendered file, which holds a secret: it must not reach the error message.
    const src = join(dir, 'stage');
    await writeFile(src, 'password=hunter2\n');
    const template = 'cat {{.src}} >&2; echo noise; exit 4';
    const err = await commandError(
      runCommand(template, { src, dest: '/etc/app.conf' }, 10_000, logger, 'check'),
    );
    expect(err.exitCode).to.equal(4);
    expect(err.timedOut).to.equal(false);
    expect(err.cancelled).to.equal(false);
    expect(err.template).to.equal(template);
    expect(err.command).to.equal(`cat ${src} >&2; echo noise; exit 4`);
    expect(err.durationMs).to.be.a('number').and.at.least(0);
    expect(err.message).to.equal(`check command exited with code 4: ${template}`);
    expect(err.message).not.to.include('hunter2');
    expect(err.output).to.include('hunter2').and.include('noise');
    for (const line of logger.messages('error').concat(logger.messages('warn'), logger.messages('info'))) {
      expect(line).not.to.include('hunter2');
    }
  });

  it('says "not found" for a command sh cannot find (exit 127)', async () => {
    const template = 'confd-no-such-checker -t {{.src}}';
    const err = await commandError(runCommand(template, vars, 10_000, logger, 'check'));
    expect(err.exitCode).to.equal(127);
    expect(err.message).to.equal(`check command not found (exit code 127): ${template}`);
    expect(err.output).to.include('confd-no-such-checker');
  });

  it('says a command was killed by a signal', async () => {
    const err = await commandError(runCommand('kill -KILL $$', vars, 10_000, logger, 'reload'));
    expect(err.exitCode).to.equal(undefined);
    expect(err.signal).to.equal('SIGKILL');
    expect(err.message).to.equal('reload command was killed by SIGKILL: kill -KILL $$');
  });

  it('on timeout kills the whole process group, including a member that ignores SIGTERM', async () => {
    const pidFile = join(dir, 'pids');
    const template = `sleep 30 & echo $! > ${pidFile}; sh -c 'trap "" TERM; echo $$ >> ${pidFile}; sleep 30' & echo $$ >> ${pidFile}; wait`;
    // Long enough for the shell to start its children first; the test waits for the timeout, not a sleep.
    const err = await commandError(runCommand(template, vars, 1500, logger, 'check'));
    expect(err.timedOut).to.equal(true);
    expect(err.cancelled).to.equal(false);
    expect(err.message).to.equal(
      `check command timed out after 1500 ms and its process group was killed: ${template}`,
    );
    const pids = await pidsFrom(pidFile, 3);
    await allGone(pids, 'the shell, its child and the child that ignores SIGTERM to be gone');
  });

  describe('cancellation (AbortSignal)', () => {
    it('kills the whole process group, grandchildren too, and rejects saying it was cancelled', async () => {
      const pidFile = join(dir, 'pids');
      const template = `sleep 30 & echo $! > ${pidFile}; sh -c 'trap "" TERM; echo $$ >> ${pidFile}; sleep 30' & echo $$ >> ${pidFile}; wait`;
      const abort = new AbortController();
      const promise = runCommand(template, vars, 60_000, logger, 'reload', abort.signal);
      const pids = await pidsFrom(pidFile, 3);
      for (const pid of pids)
        expect(await isGone(pid), `pid ${pid} running before the abort`).to.equal(false);
      abort.abort();
      const err = await commandError(promise);
      expect(err.cancelled).to.equal(true);
      expect(err.timedOut).to.equal(false);
      expect(err.message).to.equal(
        `reload command was cancelled (shutting down) and its process group killed: ${template}`,
      );
      await allGone(pids, 'the whole group to be gone after the abort');
    });

    it('does not start a command when the signal has already aborted', async () => {
      const marker = join(dir, 'ran');
      const abort = new AbortController();
      abort.abort();
      const err = await commandError(
        runCommand(`touch ${marker}`, vars, 10_000, logger, 'check', abort.signal),
      );
      expect(err.cancelled).to.equal(true);
      expect(err.message).to.include('cancelled');
      expect(existsSync(marker)).to.equal(false);
    });

    it('leaves a background child alone once the command has finished', async () => {
      const pidFile = join(dir, 'pids');
      const abort = new AbortController();
      await runCommand(
        `sleep 30 >/dev/null 2>&1 & echo $! > ${pidFile}`,
        vars,
        10_000,
        logger,
        'reload',
        abort.signal,
      );
      const [background] = await pidsFrom(pidFile, 1);
      abort.abort();
      expect(await isGone(background!)).to.equal(false);
    });
  });

  it('does not wait for a background child that keeps stdout open', async () => {
    const pidFile = join(dir, 'background.pid');
    // If we waited for the pipe to close we would hit the 10 s timeout and throw.
    await runCommand(`sleep 30 & echo $! > ${pidFile}; echo started`, vars, 10_000, logger, 'reload');
    const [background] = await pidsFrom(pidFile, 1);
    expect(await isGone(background!)).to.equal(false);
  });

  it(`runs at most COMMAND_CONCURRENCY commands at once; the others start as slots free up`, async () => {
    const started = join(dir, 'started');
    const release = join(dir, 'release');
    // Each command says it started, then holds its slot until the test creates the release file.
    const command = `echo x >> ${started}; while [ ! -e ${release} ]; do sleep 0.01; done`;
    const count = COMMAND_CONCURRENCY + 3;
    const runs = Array.from({ length: count }, () => runCommand(command, vars, 10_000, logger, 'check'));
    const startedCount = async () =>
      (await readFile(started, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    await eventually(async () => (await startedCount()) >= COMMAND_CONCURRENCY, 'the first commands');
    // No slot is free until the release file exists, so no further command can have started.
    expect(await startedCount()).to.equal(COMMAND_CONCURRENCY);
    await writeFile(release, '');
    const results = await Promise.all(runs);
    expect(results.map((r) => r.exitCode)).to.deep.equal(Array.from({ length: count }, () => 0));
    expect(await startedCount()).to.equal(count);
  });
});
