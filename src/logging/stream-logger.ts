import { hostname as osHostname } from 'node:os';
import type { LogFormat, LogLevel } from '../config/settings.js';
import { standardError, type LineSink } from './descriptor-sink.js';
import type { LogFields, Logger } from './logger.js';
import { SecretMask } from './secret-mask.js';

export { redactSecrets } from '../config/redact-secrets.js';
export type { LogFormat };

/**
 * The Logger seam's implementation: every line formatted here (formatLogLine) and written whole, one
 * write per line, to stderr (descriptorSink) or a stream. No logging library: confd's two line formats are all it needs, and
 * winston alone cost ~60 ms of a ~250 ms `-onetime` start.
 */

export interface LoggerOptions {
  level: LogLevel;
  /** text: confd's line format (default). json: one object per line, for log shippers. */
  format?: LogFormat;
  /** Defaults to stderr (fd 2), where confd logs; process.stderr only once fd 2 cannot take a line whole. */
  stream?: LineSink;
  /** Masked in every line and field (see SecretMask); URL passwords are masked regardless. */
  secrets?: Iterable<string>;
  /** Overridable for tests; default: os.hostname(), process.pid and the current time. */
  hostname?: string;
  pid?: number;
  now?: () => Date;
}

export interface ClosableLogger extends Logger {
  /** Resolves once every line written so far has been handed on by the stream. Later lines still go out. */
  close(): Promise<void>;
  /** A live reload may change the level. */
  setLevel(level: LogLevel): void;
}

export interface LogEntry {
  time: Date;
  level: LogLevel;
  message: string;
  hostname: string;
  pid: number;
  fields?: LogFields;
}

const LEVELS: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

/** confd (logrus) names warnings "WARNING", in text and JSON alike. */
const LEVEL_NAMES: Readonly<Record<LogLevel, string>> = {
  debug: 'debug',
  info: 'info',
  warn: 'warning',
  error: 'error',
};

const twoDigits = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * RFC 3339 in UTC without fractions, as confd prints: 2026-11-22T10:00:00Z. From the UTC fields, not
 * toISOString(), whose first call in a process costs ~0.2 ms (and whose fraction would be cut off again).
 */
function timestamp(time: Date): string {
  const date = `${String(time.getUTCFullYear()).padStart(4, '0')}-${twoDigits(time.getUTCMonth() + 1)}-${twoDigits(time.getUTCDate())}`;
  return `${date}T${twoDigits(time.getUTCHours())}:${twoDigits(time.getUTCMinutes())}:${twoDigits(time.getUTCSeconds())}Z`;
}

const NO_SECRETS = new SecretMask();

/**
 * text: `2026-11-22T10:00:00Z host confd[1234]: INFO message`
 * json: `{"time":"2026-11-22T10:00:00Z","level":"info","msg":"message","hostname":"host","pid":1234,"dest":...}`
 * (logrus's JSON field names, so existing confd log pipelines keep working; the fields that apply
 * follow). Secrets are masked in the message and in every field.
 */
export function formatLogLine(entry: LogEntry, format: LogFormat = 'text', mask = NO_SECRETS): string {
  const level = LEVEL_NAMES[entry.level];
  const message = mask.mask(entry.message);
  if (format === 'json') {
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(entry.fields ?? {}))
      if (typeof value === 'string') fields[name] = mask.mask(value);
    return JSON.stringify({
      time: timestamp(entry.time),
      level,
      msg: message,
      hostname: entry.hostname,
      pid: entry.pid,
      ...fields,
    });
  }
  return `${timestamp(entry.time)} ${entry.hostname} confd[${entry.pid}]: ${level.toUpperCase()} ${message}`;
}

export function createLogger(options: LoggerOptions): ClosableLogger {
  const format = options.format ?? 'text';
  const stream = options.stream ?? standardError;
  const host = options.hostname ?? osHostname();
  const pid = options.pid ?? process.pid;
  const now = options.now ?? (() => new Date());
  const mask = new SecretMask(options.secrets);
  let current = options.level;

  // Lines the stream has not yet confirmed; close() waits for them, so none is lost at exit.
  let pending = 0;
  let flushed: (() => void)[] = [];
  const written = (): void => {
    pending--;
    if (pending > 0) return;
    const waiting = flushed;
    flushed = [];
    for (const resolve of waiting) resolve();
  };

  const log = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (LEVELS[level] > LEVELS[current]) return;
    const line = formatLogLine(
      { time: now(), level, message, hostname: host, pid, ...(fields ? { fields } : {}) },
      format,
      mask,
    );
    pending++;
    // A failed write (stderr closed) has nowhere to be reported; it still counts as handed on.
    stream.write(`${line}\n`, written);
  };

  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    setLevel: (level) => {
      current = level;
    },
    close: () =>
      pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => void flushed.push(resolve)),
  };
}
