import type { LogLevel } from '../config/settings.js';

/**
 * The logging seam every module uses. The winston-backed implementation lives in winston-logger.ts; tests
 * and library callers can pass any object of this shape.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type { LogLevel };
