import type { Logger } from '../../../src/logging/logger.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';

/** A Logger that records what it is told, for asserting on warnings. */
export class MemoryLogger implements Logger {
  readonly entries: { level: Level; message: string }[] = [];
  debug(message: string) {
    this.entries.push({ level: 'debug', message });
  }
  info(message: string) {
    this.entries.push({ level: 'info', message });
  }
  warn(message: string) {
    this.entries.push({ level: 'warn', message });
  }
  error(message: string) {
    this.entries.push({ level: 'error', message });
  }
  messages(level: Level): string[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.message);
  }
}
