import { BackendError, UsageError, errorMessage } from '../errors.js';
import { cleanKey, keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { readDataFile } from './file-data.js';
import { listDataFiles } from './file-lookup.js';
import { changedKeys } from './changed-keys.js';
import { FileChangeWatch } from './file-watch.js';
import type { BackendOptions, KVPairs, StoreClient, WatchOptions, WatchResult } from './store-client.js';
import { countedChanges, nextChangeIndex, WatchEventBuffer } from './watch-event-buffer.js';

/**
 * `-backend file`: key/value pairs from YAML or JSON files and directories of them (`-file`, repeatable;
 * `-filter` selects file names inside directories). Flattened as confd does: see flatten.ts.
 */
export async function createClient(options: BackendOptions, logger: Logger): Promise<FileStoreClient> {
  if (options.files.length === 0) {
    throw new UsageError(
      'the file backend needs at least one -file (a YAML or JSON file, or a directory)',
      '-file',
    );
  }
  return new FileStoreClient(options.files, options.filter, logger);
}

export class FileStoreClient implements StoreClient {
  private readonly watch: FileChangeWatch;
  private readonly changes = new WatchEventBuffer(nextChangeIndex());
  /** The values as the watch last read them; undefined until a read succeeded. */
  private snapshot: KVPairs | undefined;
  /** The first read after arming: what later reads are compared with. */
  private baseline: Promise<void> | undefined;
  private baselineTried = false;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private lastReadError = '';
  private closed = false;

  constructor(
    private readonly paths: readonly string[],
    private readonly filter: string,
    private readonly logger: Logger,
  ) {
    this.watch = new FileChangeWatch(
      paths,
      logger,
      () => void this.refresh(),
      (err) => this.changes.fail(err),
    );
  }

  /** Reads every file again on each call, so interval mode sees edits without watching. */
  async getValues(keys: readonly string[]): Promise<KVPairs> {
    const all = await this.readAll();
    const bases = keys.map(cleanKey);
    const values: KVPairs = {};
    for (const [key, value] of Object.entries(all)) {
      if (bases.some((base) => keyIsUnder(key, base))) values[key] = value;
    }
    return values;
  }

  /**
   * One set of file system watches serves every prefix. On each event the files are read again and
   * compared with the previous read, so a result names exactly the keys created, changed or deleted, and a
   * write that changes no value wakes nobody. Files that cannot be read or parsed for a moment (a save in
   * progress, a file deleted before it is re-created) are skipped with a warning: the last good values stay
   * the reference, and the next readable state is compared with them.
   *
   * waitIndex 0 arms the watches, takes that first snapshot and resolves with the current index. Rejects
   * with a BackendError when a path cannot be watched (also for a wait in progress when a watched
   * directory disappears), and with the signal's reason when aborted.
   */
  async watchPrefix(prefix: string, _keys: readonly string[], options: WatchOptions): Promise<WatchResult> {
    const { waitIndex, signal } = options;
    signal.throwIfAborted();
    if (this.closed) throw new BackendError('file backend: client is closed', 'file', [...this.paths]);
    if (!this.watch.isArmed) {
      this.watch.arm();
      this.changes.recover();
      // Re-armed after a failure: compare the files with the last good read to catch what was missed.
      if (this.baseline) void this.refresh();
    }
    this.baseline ??= this.refresh();
    await this.baseline;
    if (waitIndex <= 0) return { index: this.changes.latest };
    const root = cleanKey(prefix);
    return this.changes.wait(waitIndex, signal, (key) => keyIsUnder(key, root));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watch.close();
    this.changes.fail(new BackendError('file backend: client is closed', 'file', [...this.paths]));
  }

  private async readAll(): Promise<KVPairs> {
    const all: KVPairs = {};
    for (const file of await listDataFiles(this.paths, this.filter))
      await readDataFile(file, all, this.logger);
    return all;
  }

  /**
   * Reads the files and records what changed. Reads never overlap: an event during a read makes it run
   * once more afterwards, so the last read starts after the last event and sees the final content.
   */
  private refresh(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = this.readUntilSettled().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async readUntilSettled(): Promise<void> {
    do {
      this.readAgain = false;
      let next: KVPairs;
      try {
        next = await this.readAll();
      } catch (err) {
        this.baselineTried = true;
        const message = errorMessage(err);
        if (message !== this.lastReadError) {
          this.logger.warn(`${message} (watching on; the last values read stay the reference)`);
          this.lastReadError = message;
        }
        continue;
      }
      if (this.closed) return;
      this.lastReadError = '';
      // Without a good read to compare with, the first good one after a failed start says "anything".
      if (this.snapshot) this.changes.record(countedChanges(changedKeys(this.snapshot, next)));
      else if (this.baselineTried) this.changes.record(countedChanges(undefined));
      this.snapshot = next;
      this.baselineTried = true;
    } while (this.readAgain && !this.closed);
  }
}
