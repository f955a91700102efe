import { readFile } from '../fs-async.js';
import { CommandError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { NativeReload, VerifyStep } from '../resources/template-resource.js';
import type { CommandResult } from './run-command.js';
import { runCommand } from './run-command.js';
import { monotonicMs } from '../monotonic-ms.js';

/** The part of an HTTP answer's body logged at debug level (it may quote the rendered file). */
const BODY_LOGGED = 2000;

/**
 * A native reload: an HTTP request (any 2xx is success) or a signal to the process named by a pid file.
 * No shell is involved. Failures are CommandErrors (exit code undefined), like a failing reload_cmd; the
 * answer's body goes to the debug log only, as command output does.
 */
export async function runNativeReload(
  step: NativeReload,
  logger: Logger,
  cancel?: AbortSignal,
): Promise<CommandResult> {
  const started = monotonicMs();
  if (step.kind === 'http') {
    await httpRequest(step, 'reload', logger, cancel, started);
    return { exitCode: 0, durationMs: monotonicMs() - started };
  }
  const template = `${step.signal} to the process in ${step.pidFile}`;
  let pid: number;
  try {
    pid = Number((await readFile(step.pidFile, 'utf8')).trim());
  } catch (err) {
    throw failed(`reload: cannot read pid file ${step.pidFile}: ${errorMessage(err)}`, template, started);
  }
  if (!Number.isInteger(pid) || pid <= 1)
    throw failed(`reload: ${step.pidFile} does not hold a process id`, template, started);
  try {
    process.kill(pid, step.signal);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ESRCH' ? 'no such process' : code === 'EPERM' ? 'permission denied' : errorMessage(err);
    throw failed(
      `reload: cannot send ${step.signal} to pid ${pid} (from ${step.pidFile}): ${why}`,
      template,
      started,
    );
  }
  logger.debug(`reload: sent ${step.signal} to pid ${pid}`);
  return { exitCode: 0, durationMs: monotonicMs() - started };
}

/**
 * Proof that the consumer took the new file: an HTTP answer in 2xx (and, with `jsonField`, that field of
 * its JSON body is `true`), or a verify_cmd that exits 0 ({{.src}} and {{.dest}} both name dest).
 */
export async function runVerify(
  step: VerifyStep,
  dest: string,
  logger: Logger,
  cancel?: AbortSignal,
): Promise<CommandResult> {
  const started = monotonicMs();
  if (step.kind === 'cmd')
    return runCommand(step.command, { src: dest, dest }, step.timeoutMs, logger, 'verify', cancel);
  const body = await httpRequest(step, 'verify', logger, cancel, started);
  if (step.jsonField !== undefined) {
    const template = `${step.method} ${step.url}`;
    let value: unknown;
    try {
      value = fieldAt(JSON.parse(body) as unknown, step.jsonField);
    } catch {
      throw failed(`verify: ${template} did not answer JSON`, template, started);
    }
    if (value !== true) {
      const shown =
        value === undefined ? 'missing' : typeof value === 'boolean' ? String(value) : `not a boolean`;
      throw failed(
        `verify: ${step.jsonField} in the answer of ${template} is ${shown}, not true`,
        template,
        started,
      );
    }
  }
  return { exitCode: 0, durationMs: monotonicMs() - started };
}

async function httpRequest(
  step: { method: string; url: string; timeoutMs: number },
  what: 'reload' | 'verify',
  logger: Logger,
  cancel: AbortSignal | undefined,
  started: number,
): Promise<string> {
  const template = `${step.method} ${step.url}`;
  const timeout = AbortSignal.timeout(step.timeoutMs);
  const signal = cancel ? AbortSignal.any([cancel, timeout]) : timeout;
  let response: Response;
  let body: string;
  try {
    response = await fetch(step.url, { method: step.method, signal, redirect: 'manual' });
    body = await response.text();
  } catch (err) {
    if (timeout.aborted)
      throw failed(`${what}: ${template} did not answer within ${step.timeoutMs} ms`, template, started, {
        timedOut: true,
      });
    if (cancel?.aborted)
      throw failed(`${what}: ${template} was cancelled`, template, started, { cancelled: true });
    const cause = (err as { cause?: unknown }).cause;
    throw failed(`${what}: ${template} failed: ${errorMessage(cause ?? err)}`, template, started);
  }
  if (body.trim())
    logger.debug(`${what}: ${template} answered ${response.status}: ${body.slice(0, BODY_LOGGED)}`);
  if (response.status < 200 || response.status > 299)
    throw failed(`${what}: ${template} answered HTTP ${response.status}`, template, started);
  return body;
}

function fieldAt(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function failed(
  message: string,
  template: string,
  started: number,
  extra: { timedOut?: boolean; cancelled?: boolean } = {},
): CommandError {
  return new CommandError(message, {
    template,
    command: template,
    durationMs: monotonicMs() - started,
    ...extra,
  });
}
