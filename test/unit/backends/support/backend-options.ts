import { DEFAULT_SETTINGS } from '../../../../src/config/settings.js';
import type { BackendOptions } from '../../../../src/backends/store-client.js';
import type { Logger } from '../../../../src/logging/logger.js';

/** Backend options as the CLI builds them from default settings, with `overrides` applied. */
export function backendOptions(overrides: Partial<BackendOptions>): BackendOptions {
  return { ...DEFAULT_SETTINGS, ...overrides };
}

/** A Logger that keeps what it is told, by level. */
export function recordingLogger(): Logger & { lines: Record<keyof Logger, string[]> } {
  const lines = { debug: [] as string[], info: [] as string[], warn: [] as string[], error: [] as string[] };
  return {
    lines,
    debug: (m) => void lines.debug.push(m),
    info: (m) => void lines.info.push(m),
    warn: (m) => void lines.warn.push(m),
    error: (m) => void lines.error.push(m),
  };
}
