import type { Logger } from '../../src/logging/logger.js';

export type Level = keyof Logger;

/** A Logger that drops everything, for tests that do not look at what is logged. */
export const quietLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A Logger that keeps what it is told, in order and by level, for asserting on what was said. */
export class RecordingLogger implements Logger {
  readonly entries: { level: Level; message: string }[] = [];
  // Arrow properties, so the methods still work when passed around detached from the logger.
  readonly debug = (message: string): void => void this.entries.push({ level: 'debug', message });
  readonly info = (message: string): void => void this.entries.push({ level: 'info', message });
  readonly warn = (message: string): void => void this.entries.push({ level: 'warn', message });
  readonly error = (message: string): void => void this.entries.push({ level: 'error', message });

  /** Every message, whatever its level, in the order logged. */
  get lines(): string[] {
    return this.entries.map((e) => e.message);
  }

  /** The messages logged at `level`, in order. */
  messages(level: Level): string[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.message);
  }
}

export function recordingLogger(): RecordingLogger {
  return new RecordingLogger();
}
