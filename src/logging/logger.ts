import type { LogLevel } from '../config/settings.js';

/**
 * What a line is about, beyond its message. JSON logs carry these as fields; text logs keep confd's line
 * format, whose message already says it. Never a store value, never a secret.
 */
export interface LogFields {
  dest?: string;
  /** The resource's TOML file. */
  resource?: string;
  backend?: string;
  key?: string;
  prefix?: string;
  /** The error's message, when the line reports one. */
  error?: string;
  reason?: string;
}

/**
 * The logging seam every module uses. The implementation lives in stream-logger.ts; tests
 * and library callers can pass any object of this shape.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type { LogLevel };
