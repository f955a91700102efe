import { watch, statSync } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { BackendError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';

/**
 * Counts changes to the `-file` paths. The count is the file backend's watch index: a waiter passes the
 * count it last saw and is woken as soon as the count moves past it. Watches stay armed between waits, so a
 * change made while the caller was busy re-reading still wakes its next wait.
 *
 * A file is watched through its directory (filtered on its name) because editors and config managers
 * replace files by rename, which leaves a watch on the old file deaf; the file itself is watched as well, so
 * writes through a symbolic link are seen. Directories are watched recursively. After any rename or error
 * every watch is rebuilt, so replaced files and new directories are followed.
 */
export class FileChangeWatch {
  private count = 1;
  private watchers: FSWatcher[] = [];
  private armed = false;
  private rebuildScheduled = false;
  private closed = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly paths: readonly string[],
    private readonly logger: Logger,
  ) {}

  /**
   * Resolves with the change count once it is above `waitIndex` (at once when it already is, e.g. for 0).
   * Aborting rejects with the signal's reason. Rejects with a BackendError when a path cannot be watched.
   */
  async waitForChange(waitIndex: number, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    if (this.closed) throw new BackendError('file backend: client is closed', 'file', [...this.paths]);
    this.arm();
    if (this.count > waitIndex) return this.count;
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(wake);
        reject(signal.reason);
      };
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(this.count);
      };
      this.waiters.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.closed = true;
    this.disarm();
    this.waiters.clear();
  }

  private arm(): void {
    if (this.armed) return;
    try {
      for (const path of this.paths) this.watchPath(path);
      this.armed = true;
    } catch (err) {
      this.disarm();
      throw new BackendError(`file backend: cannot watch ${errorMessage(err)}`, 'file', [...this.paths], {
        cause: err,
      });
    }
  }

  private watchPath(path: string): void {
    let isDirectory = false;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      // A missing file is watched through its directory and shows up when created.
    }
    if (isDirectory) {
      this.add(path, { recursive: true }, () => true);
      return;
    }
    const name = basename(path);
    this.add(dirname(path), {}, (filename) => filename === null || filename === name);
    try {
      this.add(path, {}, () => true);
    } catch {
      // Not there (yet): the directory watch covers its creation.
    }
  }

  private add(
    path: string,
    options: { recursive?: boolean },
    relevant: (filename: string | null) => boolean,
  ): void {
    let watcher: FSWatcher;
    try {
      watcher = watch(path, { ...options, persistent: true }, (event, filename) => {
        if (!relevant(filename === null ? null : String(filename))) return;
        this.changed(event === 'rename');
      });
    } catch (err) {
      throw new Error(`${path}: ${errorMessage(err)}`, { cause: err });
    }
    watcher.on('error', (err) => {
      this.logger.debug(`file backend: watch on ${path} failed: ${errorMessage(err)}`);
      this.changed(true);
    });
    this.watchers.push(watcher);
  }

  private changed(rebuild: boolean): void {
    if (this.closed) return;
    this.count += 1;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
    if (rebuild && !this.rebuildScheduled) {
      this.rebuildScheduled = true;
      // Once per burst of events: an editor's save is several renames in a row.
      setImmediate(() => {
        this.rebuildScheduled = false;
        if (this.closed) return;
        this.disarm();
        try {
          this.arm();
        } catch (err) {
          // Retried by the next waitForChange, which then reports it.
          this.logger.debug(errorMessage(err));
        }
      });
    }
  }

  private disarm(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    this.armed = false;
  }
}
