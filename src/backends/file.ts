import { UsageError } from '../errors.js';
import { cleanKey, keyIsUnder } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { readDataFile } from './file-data.js';
import { listDataFiles } from './file-lookup.js';
import { FileChangeWatch } from './file-watch.js';
import type { BackendOptions, KVPairs, StoreClient, WatchOptions } from './store-client.js';

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

  constructor(
    private readonly paths: readonly string[],
    private readonly filter: string,
    private readonly logger: Logger,
  ) {
    this.watch = new FileChangeWatch(paths, logger);
  }

  /** Reads every file again on each call, so interval mode sees edits without watching. */
  async getValues(keys: readonly string[]): Promise<KVPairs> {
    const all: KVPairs = {};
    for (const file of await listDataFiles(this.paths, this.filter))
      await readDataFile(file, all, this.logger);
    const bases = keys.map(cleanKey);
    const values: KVPairs = {};
    for (const [key, value] of Object.entries(all)) {
      if (bases.some((base) => keyIsUnder(key, base))) values[key] = value;
    }
    return values;
  }

  /**
   * The index is a count of file system events on the `-file` paths. waitIndex 0 resolves at once (with
   * 1); otherwise it resolves once any watched file changed after the caller saw `waitIndex`, whatever
   * `prefix` and `keys` are (a file holds any keys). Aborting rejects with the signal's reason (an AbortError).
   */
  async watchPrefix(_prefix: string, _keys: readonly string[], options: WatchOptions): Promise<number> {
    return this.watch.waitForChange(options.waitIndex, options.signal);
  }

  async close(): Promise<void> {
    this.watch.close();
  }
}
