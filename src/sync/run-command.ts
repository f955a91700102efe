import { CommandError } from '../errors.js';
import type { Logger } from '../logging/logger.js';

/** How long a timed-out command's process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 1000;
/**
 * After the shell exits, how long to wait for its output pipes to close. A background child (`daemon &`)
 * inherits them and may hold them open for ever; we stop reading rather than hang.
 */
const DRAIN_MS = 200;
const TAIL_CHARS = 2000;

/**
 * Runs a check_cmd or reload_cmd through /bin/sh with {{.src}} and {{.dest}} substituted (as confd does:
 * verbatim, so quote them in the command if paths may contain spaces). The shell leads a new process
 * group, so a timeout kills everything it started, not just the shell.
 */
export async function runCommand(
  template: string,
  vars: { src: string; dest: string },
  timeoutMs: number,
  logger: Logger,
  what: 'check' | 'reload',
): Promise<void> {
  const command = substituteVars(template, vars);
  logger.debug(`running ${what} command: ${command}`);
  const { execa } = await import('execa');
  const subprocess = execa('/bin/sh', ['-c', command], {
    detached: true,
    stdin: 'ignore',
    all: true,
    reject: false,
    stripFinalNewline: false,
  });

  let timedOut = false;
  let drainTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stopReading = () => {
    subprocess.stdout?.destroy();
    subprocess.stderr?.destroy();
  };
  const timeoutTimer = setTimeout(() => {
    timedOut = true;
    signalGroup(subprocess.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(subprocess.pid, 'SIGKILL'), KILL_GRACE_MS);
  }, timeoutMs);
  subprocess.once('exit', () => {
    // The command itself has finished: only the output is still outstanding, and that never times out.
    clearTimeout(timeoutTimer);
    drainTimer = setTimeout(stopReading, DRAIN_MS);
  });

  const result = await subprocess;
  clearTimeout(timeoutTimer);
  clearTimeout(drainTimer);
  if (killTimer) {
    // The shell is gone and the pipes are closed: whatever is left of the group ignored SIGTERM or
    // detached from our pipes; it goes now rather than outliving the command.
    clearTimeout(killTimer);
    signalGroup(subprocess.pid, 'SIGKILL');
  }

  const output = String(result.all ?? '');
  if (output.trim()) logger.debug(`${what} command output:\n${tail(output, 16_000)}`);
  const detail = tail(String(result.stderr ?? '').trim() || output.trim(), TAIL_CHARS);
  const suffix = detail ? `: ${detail}` : '';
  if (timedOut) {
    throw new CommandError(
      `${what} command timed out after ${timeoutMs} ms and was killed: ${command}${suffix}`,
      command,
      undefined,
      true,
      tail(output, TAIL_CHARS),
    );
  }
  if (result.exitCode === 0) return;
  const how =
    result.exitCode !== undefined
      ? `exited with code ${result.exitCode}`
      : result.signal
        ? `was killed by ${result.signal}`
        : `could not start (${result.shortMessage})`;
  throw new CommandError(
    `${what} command ${how}: ${command}${suffix}`,
    command,
    result.exitCode,
    false,
    tail(output, TAIL_CHARS),
  );
}

export function substituteVars(template: string, vars: { src: string; dest: string }): string {
  return template.replace(/\{\{\s*\.(src|dest)\s*\}\}/g, (_, name: 'src' | 'dest') => vars[name]);
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
