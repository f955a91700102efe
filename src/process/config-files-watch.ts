import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../logging/logger.js';

/** Changes to conf.d/ and templates/ apply at most once per window, counted from the first change. */
export const CONFIG_BATCH_MS = 2000;

/**
 * Watches conf.d/ and templates/ (recursively) and calls `onChange` once per batch of file system events:
 * the first event opens a window of CONFIG_BATCH_MS, everything until it closes is one reload. An editor's
 * save (several renames) and a config manager dropping ten files are each one reload, not ten. A directory
 * that does not exist is not watched (SIGHUP still reloads).
 */
export class ConfigFilesWatch {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly dirs: readonly string[],
    private readonly onChange: () => void,
    private readonly logger: Logger,
    private readonly windowMs = CONFIG_BATCH_MS,
  ) {}

  start(): void {
    for (const dir of this.dirs) {
      try {
        const watcher = watch(dir, { recursive: true, persistent: false }, () => this.changed());
        watcher.on('error', (err) => {
          this.logger.warn(
            `watching ${dir} for configuration changes failed: ${err.message}; SIGHUP still reloads`,
          );
          watcher.close();
        });
        this.watchers.push(watcher);
      } catch (err) {
        this.logger.debug(`not watching ${dir} for configuration changes: ${(err as Error).message}`);
      }
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
  }

  private changed(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.onChange();
    }, this.windowMs);
  }
}
