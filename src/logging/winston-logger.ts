import { hostname as osHostname } from 'node:os';
import type { LogLevel } from '../config/settings.js';
import type { Logger } from './logger.js';
import { redactUrlCredentials } from '../config/redact-secrets.js';

export { redactSecrets } from '../config/redact-secrets.js';

/**
 * winston behind the Logger seam. winston costs ~60 ms to import, more than the whole `-onetime` file
 * backend run should, so it loads lazily and createLogger is async.
 */

export type LogFormat = 'text' | 'json';

export interface LoggerOptions {
  level: LogLevel;
  /** text: confd's line format (default). json: one object per line, for log shippers. */
  format?: LogFormat;
  /** Defaults to process.stderr, where confd logs. */
  stream?: NodeJS.WritableStream;
  /** Overridable for tests; default: os.hostname(), process.pid and the current time. */
  hostname?: string;
  pid?: number;
  now?: () => Date;
}

export interface ClosableLogger extends Logger {
  /** Flushes and detaches winston. Later messages are still written, straight to the stream. */
  close(): Promise<void>;
}

export interface LogEntry {
  time: Date;
  level: LogLevel;
  message: string;
  hostname: string;
  pid: number;
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

/**
 * text: `2026-11-22T10:00:00Z host confd[1234]: INFO message`
 * json: `{"time":"2026-11-22T10:00:00Z","level":"info","msg":"message","hostname":"host","pid":1234}`
 * (logrus's JSON field names, so existing confd log pipelines keep working).
 */
export function formatLogLine(entry: LogEntry, format: LogFormat = 'text'): string {
  const level = LEVEL_NAMES[entry.level];
  const message = redactUrlCredentials(entry.message);
  if (format === 'json') {
    return JSON.stringify({
      time: timestamp(entry.time),
      level,
      msg: message,
      hostname: entry.hostname,
      pid: entry.pid,
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
  const line = (level: LogLevel, message: string): string =>
    formatLogLine({ time: now(), level, message, hostname: host, pid }, format);

  const logger = winston.createLogger({
    levels: LEVELS,
    level: options.level,
    format: winston.format.printf((info) => line(info.level as LogLevel, String(info.message))),
    transports: [new winston.transports.Stream({ stream, eol: '\n' })],
  });

  let closed = false;
  const log = (level: LogLevel, message: string): void => {
    if (!closed) {
      logger.log(level, message);
    } else if (LEVELS[level] <= LEVELS[options.level]) {
      stream.write(`${line(level, message)}\n`);
    }
  };

  return {
    debug: (message) => log('debug', message),
    info: (message) => log('info', message),
    warn: (message) => log('warn', message),
    error: (message) => log('error', message),
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
