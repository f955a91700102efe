/**
 * Typed errors. Each carries the context an operator needs to find the fault (file, line, key, flag)
 * so the CLI can print one clear line without a stack trace.
 */
export class ConfdError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command line: unknown flag, missing or invalid value. The CLI exits 2. */
export class UsageError extends ConfdError {
  constructor(
    message: string,
    readonly flag?: string,
  ) {
    super(message);
  }
}

/** Invalid configuration file, resource file or setting. Names the file and, when known, line and column. */
export class ConfigError extends ConfdError {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly column?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A template failed to compile or render. Names the template file, the line and the key when known. */
export class TemplateError extends ConfdError {
  constructor(
    message: string,
    readonly template: string,
    readonly line?: number,
    readonly key?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A store could not be reached or refused a request. Names the backend and its endpoints. */
export class BackendError extends ConfdError {
  constructor(
    message: string,
    readonly backend: string,
    readonly endpoints: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A store request got no answer within its deadline (-request-timeout): a hanging, not a refusing, store. */
export class RequestTimeoutError extends BackendError {
  constructor(
    backend: string,
    endpoints: readonly string[],
    readonly doing: string,
    readonly timeoutMs: number,
  ) {
    super(`${backend}: no answer ${doing} within ${timeoutMs} ms (-request-timeout)`, backend, endpoints);
  }
}

/** The requested backend exists in confd but not (or never) here. */
export class UnsupportedBackendError extends ConfdError {
  constructor(readonly backend: string) {
    super(`backend ${backend} is not supported`);
  }
}

/** What a check_cmd or reload_cmd did, for the error and for metrics. */
export interface CommandErrorDetails {
  /** The command as configured, before {{.src}}/{{.dest}} substitution: what the message names. */
  template: string;
  /** The command as run. */
  command: string;
  exitCode?: number;
  signal?: string;
  timedOut?: boolean;
  /** Stopped because the daemon is shutting down. */
  cancelled?: boolean;
  durationMs: number;
  /**
   * The tail of the command's combined output. Never part of the message: a check's output can quote the
   * rendered file, secrets included. Log it at debug level at most.
   */
  output?: string;
}

/** check_cmd or reload_cmd failed, timed out, was cancelled or could not start. */
export class CommandError extends ConfdError {
  readonly template: string;
  readonly command: string;
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  readonly durationMs: number;
  readonly output: string;

  constructor(message: string, details: CommandErrorDetails) {
    super(message);
    this.template = details.template;
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.timedOut = details.timedOut ?? false;
    this.cancelled = details.cancelled ?? false;
    this.durationMs = details.durationMs;
    this.output = details.output ?? '';
  }
}

/** A guard rule refused a render: dest and its backups stay as they are. */
export class GuardError extends ConfdError {
  constructor(
    readonly dest: string,
    readonly refusal: string,
  ) {
    super(`${dest}: render refused by the guard: ${refusal}`);
  }
}

/** Writing the destination file failed. */
export class SyncError extends ConfdError {
  constructor(
    message: string,
    readonly dest: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `err` as an Error, for code that caught something that may not be one. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
