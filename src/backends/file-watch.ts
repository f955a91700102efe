import { watch, statSync } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { BackendError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';

/**
 * Tells its owner when the `-file` paths may have changed; what changed is the owner's business (it
 * re-reads and compares). Watches stay armed between the owner's waits, so nothing is missed while it is
 * busy.
 *
 * A file is watched through its directory (filtered on its name) because editors and config managers
 * replace files by rename, which leaves a watch on the old file deaf; the file itself is watched as well, so
 * writes through a symbolic link are seen. Directories are watched recursively. After any rename or error
 * every watch is rebuilt, so replaced, deleted and re-created files and new directories are followed.
 */
export class FileChangeWatch {
  private watchers: FSWatcher[] = [];
  private armed = false;
  private rebuildScheduled = false;
  private closed = false;

  /**
   * @param onChange called after every file system event on the paths, and after each rebuild (events
   *   inside a directory created before its watch existed are otherwise lost).
   * @param onError called when a rebuild fails (a watched directory went away); arm() reports it again.
   */
  constructor(
    private readonly paths: readonly string[],
    private readonly logger: Logger,
    private readonly onChange: () => void,
    private readonly onError: (err: BackendError) => void,
  ) {}

  get isArmed(): boolean {
    return this.armed;
  }

  /** Starts watching, unless already watching. Throws a BackendError when a path cannot be watched. */
  arm(): void {
    if (this.armed) return;
    if (this.closed) throw new BackendError('file backend: client is closed', 'file', [...this.paths]);
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

  close(): void {
    this.closed = true;
    this.disarm();
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
    const dir = dirname(path);
    // The directory's own removal is reported under its name: the watch must be rebuilt then, or it is deaf.
    const dirName = basename(dir);
    this.add(dir, {}, (filename) => filename === null || filename === name || filename === dirName);
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
    this.onChange();
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
          this.onError(err as BackendError);
          return;
        }
        this.onChange();
      });
    }
  }

  /** Stops watching until the next arm(). */
  disarm(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    this.armed = false;
  }
}
