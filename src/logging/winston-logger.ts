import { hostname as osHostname } from 'node:os';
import type { LogFormat, LogLevel } from '../config/settings.js';
import type { LogFields, Logger } from './logger.js';
import { SecretMask } from './secret-mask.js';

export { redactSecrets } from '../config/redact-secrets.js';
export type { LogFormat };

/**
 * winston behind the Logger seam. winston costs ~60 ms to import, more than the whole `-onetime` file
 * backend run should, so it loads lazily and createLogger is async.
 */

export interface LoggerOptions {
  level: LogLevel;
  /** text: confd's line format (default). json: one object per line, for log shippers. */
  format?: LogFormat;
  /** Defaults to process.stderr, where confd logs. */
  stream?: NodeJS.WritableStream;
  /** Masked in every line and field (see SecretMask); URL passwords are masked regardless. */
  secrets?: Iterable<string>;
  /** Overridable for tests; default: os.hostname(), process.pid and the current time. */
  hostname?: string;
  pid?: number;
  now?: () => Date;
}

export interface ClosableLogger extends Logger {
  /** Flushes and detaches winston. Later messages are still written, straight to the stream. */
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

/** RFC 3339 in UTC without fractions, as confd prints: 2026-11-22T10:00:00Z. */
function timestamp(time: Date): string {
  return time.toISOString().replace(/\.\d+Z$/, 'Z');
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

export async function createLogger(options: LoggerOptions): Promise<ClosableLogger> {
  const { default: winston } = await import('winston');
  const format = options.format ?? 'text';
  const stream = options.stream ?? process.stderr;
  const host = options.hostname ?? osHostname();
  const pid = options.pid ?? process.pid;
  const now = options.now ?? (() => new Date());
  const mask = new SecretMask(options.secrets);
  let current = options.level;
  const line = (level: LogLevel, message: string, fields?: LogFields): string =>
    formatLogLine(
      { time: now(), level, message, hostname: host, pid, ...(fields ? { fields } : {}) },
      format,
      mask,
    );

  const logger = winston.createLogger({
    levels: LEVELS,
    level: options.level,
    format: winston.format.printf((info) =>
      line(info.level as LogLevel, String(info.message), info.fields as LogFields | undefined),
    ),
    transports: [new winston.transports.Stream({ stream, eol: '\n' })],
  });

  let closed = false;
  const log = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (LEVELS[level] > LEVELS[current]) return;
    if (!closed) {
      logger.log(level, message, fields ? { fields } : {});
    } else {
      stream.write(`${line(level, message, fields)}\n`);
    }
  };

  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    setLevel: (level) => {
      current = level;
      logger.level = level;
    },
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => {
        logger.once('finish', () => resolve());
        logger.end();
      });
    },
  };
}
