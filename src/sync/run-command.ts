import { CommandError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { substituteVars } from './shell-substitute.js';
import { monotonicMs } from '../monotonic-ms.js';

export { substituteVars };

/** How long a timed-out or cancelled command's process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 1000;
/**
 * After the shell exits, how long to wait for its output pipes to close. A background child (`daemon &`)
 * inherits them and may hold them open for ever; we stop reading rather than hang.
 */
const DRAIN_MS = 200;
const TAIL_CHARS = 2000;
/**
 * Commands (check, reload, verify) running at once in this process. File writes of a batch run many at a
 * time (they wait on the disk, not the CPU); commands fork shells and run programs that do, so they take
 * a slot each and wait for one beyond this.
 */
export const COMMAND_CONCURRENCY = 8;

let running = 0;
const waiting: (() => void)[] = [];

async function takeSlot(): Promise<void> {
  if (running < COMMAND_CONCURRENCY) {
    running += 1;
    return;
  }
  // The slot is handed over by the releasing command, so `running` never drops below the queue's need.
  await new Promise<void>((resolve) => waiting.push(resolve));
}

function releaseSlot(): void {
  const next = waiting.shift();
  if (next) next();
  else running -= 1;
}

/** A command that exited 0. */
export interface CommandResult {
  exitCode: 0;
  /** From start until the shell exited (not counting the drain of a background child's output). */
  durationMs: number;
}

type StopReason = 'timeout' | 'cancel';

/**
 * Runs a check_cmd or reload_cmd through /bin/sh with {{.src}} and {{.dest}} substituted, shell-quoted
 * when needed (see shell-substitute.ts). The shell leads a new process group, so a timeout or an abort of
 * `signal` (shutdown) stops everything it started, not just the shell: SIGTERM to the group, SIGKILL after
 * a grace period or as soon as the shell is gone.
 *
 * Rejects with a CommandError whose message says what happened and names the command as configured; the
 * output stays out of the message (it may contain rendered secrets) and is logged at debug level only.
 */
export async function runCommand(
  template: string,
  vars: { src: string; dest: string },
  timeoutMs: number,
  logger: Logger,
  what: 'check' | 'reload' | 'verify',
  signal?: AbortSignal,
): Promise<CommandResult> {
  await takeSlot();
  try {
    // The timeout counts from the command's start, not from the wait for a slot.
    return await runCommandNow(template, vars, timeoutMs, logger, what, signal);
  } finally {
    releaseSlot();
  }
}

async function runCommandNow(
  template: string,
  vars: { src: string; dest: string },
  timeoutMs: number,
  logger: Logger,
  what: 'check' | 'reload' | 'verify',
  signal?: AbortSignal,
): Promise<CommandResult> {
  const command = substituteVars(template, vars);
  if (signal?.aborted) {
    throw new CommandError(`${what} command was cancelled before it started: ${template}`, {
      template,
      command,
      cancelled: true,
      durationMs: 0,
    });
  }
  logger.debug(`running ${what} command: ${command}`);
  const { execa } = await import('execa');
  const started = monotonicMs();
  const subprocess = execa('/bin/sh', ['-c', command], {
    detached: true,
    stdin: 'ignore',
    all: true,
    reject: false,
    stripFinalNewline: false,
  });

  let stopped: StopReason | undefined;
  let exitedAt: number | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (reason: StopReason) => {
    if (stopped || exitedAt !== undefined) return;
    stopped = reason;
    signalGroup(subprocess.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(subprocess.pid, 'SIGKILL'), KILL_GRACE_MS);
  };
  const timeoutTimer = setTimeout(() => stop('timeout'), timeoutMs);
  const onAbort = () => stop('cancel');
  signal?.addEventListener('abort', onAbort, { once: true });
  // An abort that came while execa was loading fired no event we could hear.
  if (signal?.aborted) stop('cancel');
  subprocess.once('exit', () => {
    // The command itself has finished: only the output is still outstanding, and that never times out.
    // A background child it left running is not ours to stop any more, so a later abort leaves it alone.
    exitedAt = monotonicMs();
    clearTimeout(timeoutTimer);
    signal?.removeEventListener('abort', onAbort);
    drainTimer = setTimeout(() => {
      subprocess.stdout?.destroy();
      subprocess.stderr?.destroy();
    }, DRAIN_MS);
  });

  const result = await subprocess;
  clearTimeout(timeoutTimer);
  clearTimeout(drainTimer);
  signal?.removeEventListener('abort', onAbort);
  if (killTimer) {
    // The shell is gone and the pipes are closed: whatever is left of the group ignored SIGTERM or
    // detached from our pipes; it goes now rather than outliving the command.
    clearTimeout(killTimer);
    signalGroup(subprocess.pid, 'SIGKILL');
  }
  const durationMs = Math.round((exitedAt ?? monotonicMs()) - started);

  const output = String(result.all ?? '');
  if (output.trim()) logger.debug(`${what} command output:\n${tail(output, 16_000)}`);
  if (!stopped && result.exitCode === 0) return { exitCode: 0, durationMs };

  const details = {
    template,
    command,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: stopped === 'timeout',
    cancelled: stopped === 'cancel',
    durationMs,
    output: tail(output, TAIL_CHARS),
  };
  throw new CommandError(`${what} command ${failure(stopped, result, timeoutMs)}: ${template}`, details);
}

/** What went wrong, in words: the CommandError message without the command. */
function failure(
  stopped: StopReason | undefined,
  result: { exitCode?: number; signal?: string; cause?: unknown },
  timeoutMs: number,
): string {
  if (stopped === 'cancel') return 'was cancelled (shutting down) and its process group killed';
  if (stopped === 'timeout') return `timed out after ${timeoutMs} ms and its process group was killed`;
  // sh's own conventions: 127 = the command was not found, 126 = found but not executable.
  if (result.exitCode === 127) return 'not found (exit code 127)';
  if (result.exitCode === 126)
    return 'could not be executed (exit code 126: not executable or no permission)';
  if (result.exitCode !== undefined) return `exited with code ${result.exitCode}`;
  if (result.signal) return `was killed by ${result.signal}`;
  const code = (result.cause as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
  return `could not start /bin/sh (${code})`;
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    // A negative pid addresses the process group; detached made the shell its leader.
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

function tail(text: string, chars: number): string {
  return text.length <= chars ? text : `...${text.slice(-chars)}`;
}
