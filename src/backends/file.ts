import { stat } from '../fs-async.js';
import { BackendError, UsageError, errorMessage } from '../errors.js';
import { pairsUnder } from '../key-index.js';
import { cleanKey, keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { changedKeys } from './changed-keys.js';
import { FileDataReader } from './file-reader.js';
import { FileChangeWatch } from './file-watch.js';
import { SharedWatches, type WatchSource } from './shared-watches.js';
import type { BackendOptions, KVPairs, PrefixWatch, RequestOptions, StoreClient } from './store-client.js';
import {
  concerning,
  countedChanges,
  nextChangeIndex,
  WatchEventBuffer,
  type WatchChange,
} from './watch-event-buffer.js';

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

/**
 * One set of file system watches serves every prefix. On each event the files are read again and compared
 * with the previous read, so a change names exactly the keys created, changed or deleted, and a write that
 * changes no value wakes nobody. A file caught mid-rewrite keeps its last good values (see FileDataReader).
 */
export class FileStoreClient implements StoreClient {
  private readonly reader: FileDataReader;
  private readonly fsWatch: FileChangeWatch;
  private readonly watches: SharedWatches<FilePrefixSource>;
  private readonly live = new Set<FilePrefixSource>();
  /** The values as the watch last read them; undefined until a read succeeded. */
  private snapshot: KVPairs | undefined;
  private baseline: Promise<void> | undefined;
  /** A read was attempted since arming: a first good read after a failed one says "anything changed". */
  private baselineTried = false;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private lastReadError = '';
  private closed = false;

  constructor(
    private readonly paths: readonly string[],
    filter: string,
    private readonly logger: Logger,
  ) {
    this.reader = new FileDataReader(paths, filter, logger);
    this.fsWatch = new FileChangeWatch(
      paths,
      logger,
      () => void this.refresh(),
      (err) => this.failAll(err),
    );
    this.watches = new SharedWatches((root) => new FilePrefixSource(root, this), {
      backend: 'file',
      endpoints: paths,
    });
  }

  async getValues(keys: readonly string[], options: RequestOptions = {}): Promise<KVPairs> {
    const all = await this.reader.readAll(options.signal);
    return pairsUnder(all, keys.map(cleanKey));
  }

  /**
   * Arms the file system watches (shared by every prefix) and takes the first snapshot. Rejects with a
   * BackendError when a path cannot be watched; a watched directory that disappears fails every watch.
   */
  watch(prefix: string, options: RequestOptions = {}): Promise<PrefixWatch> {
    return this.watches.acquire(prefix, options.signal);
  }

  /** Every -file path is there: what "the store answers" means for files. */
  async ping(options: RequestOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    for (const path of this.paths) {
      try {
        await stat(path);
      } catch (err) {
        throw new BackendError(`file backend: cannot read ${path}: ${errorMessage(err)}`, 'file', [path]);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fsWatch.close();
    await this.watches.closeAll(this.closedError());
  }

  /** @internal FilePrefixSource: starts watching for one more prefix and waits for the first snapshot. */
  async attach(source: FilePrefixSource): Promise<void> {
    if (this.closed) throw this.closedError();
    this.live.add(source);
    if (!this.fsWatch.isArmed) {
      this.fsWatch.arm();
      // Watching anew (first time, or after every prefix was released or failed): a fresh reference read.
      this.baseline = undefined;
      this.snapshot = undefined;
      this.baselineTried = false;
    }
    this.baseline ??= this.refresh();
    await this.baseline;
  }

  /** @internal The last prefix released: stop watching the file system. */
  detach(source: FilePrefixSource): void {
    this.live.delete(source);
    if (this.live.size === 0) this.fsWatch.disarm();
  }

  private failAll(err: BackendError): void {
    for (const source of [...this.live]) source.fail(err);
    this.live.clear();
    this.fsWatch.disarm();
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
        next = await this.reader.readAll();
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
      const changes = this.snapshot
        ? countedChanges(changedKeys(this.snapshot, next))
        : countedChanges(this.baselineTried ? undefined : []);
      this.snapshot = next;
      this.baselineTried = true;
      if (changes.length > 0) for (const source of this.live) source.record(changes);
    } while (this.readAgain && !this.closed);
  }

  private closedError(): BackendError {
    return new BackendError('file backend: client is closed', 'file', [...this.paths]);
  }
}

/** One watched prefix: the changes under it, from the client's shared file system watch. */
class FilePrefixSource implements WatchSource {
  private readonly changes = new WatchEventBuffer(nextChangeIndex());
  private failure: BackendError | undefined;

  constructor(
    private readonly root: string,
    private readonly client: FileStoreClient,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  async arm(): Promise<number> {
    await this.client.attach(this);
    return this.changes.latest;
  }

  wait(afterIndex: number, keys: readonly string[], signal: AbortSignal) {
    return this.changes.wait(afterIndex, signal, concerning(keys));
  }

  record(changes: readonly WatchChange[]): void {
    this.changes.record(
      changes.filter((change) => change.key === undefined || keyIsUnder(change.key, this.root)),
    );
  }

  fail(err: BackendError): void {
    this.failure ??= err;
    this.changes.fail(err);
  }

  close(err: BackendError): void {
    this.fail(err);
    this.client.detach(this);
  }
}
