import { setAll } from '../kv-pairs.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackendError, errorMessage } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { readDataFile } from './file-data.js';
import { listDataFiles } from './file-lookup.js';
import type { KVPairs } from './store-client.js';

/** Re-reads of a file caught mid-rewrite before its last good parse stands in for it. */
const REREAD_ATTEMPTS = 3;
const REREAD_PAUSE_MS = 100;

/**
 * Reads the `-file` paths whole, every time (so interval mode sees edits without watching), and keeps the
 * last good parse of each file. A file caught in the middle of a rewrite (emptied, or not parseable yet)
 * must not read as "no keys": it is read again a few times, and if it is still not right, its last good
 * values stand in for it (with a warning) until a later read succeeds. A file never read successfully has
 * nothing to stand in: its error fails the read, so the resource fails and is retried, and no file is
 * rendered from missing data.
 */
export class FileDataReader {
  private readonly lastGood = new Map<string, KVPairs>();
  /** Files whose last good values are standing in, so the warning is logged once per episode. */
  private readonly standingIn = new Set<string>();

  constructor(
    private readonly paths: readonly string[],
    private readonly filter: string,
    private readonly logger: Logger,
  ) {}

  async readAll(signal?: AbortSignal): Promise<KVPairs> {
    const all: KVPairs = new Map();
    for (const file of await listDataFiles(this.paths, this.filter)) {
      signal?.throwIfAborted();
      // Later files win, as in confd.
      setAll(all, await this.readFile(file, signal));
    }
    return all;
  }

  private async readFile(file: string, signal: AbortSignal | undefined): Promise<KVPairs> {
    const previous = this.lastGood.get(file);
    for (let attempt = 1; ; attempt++) {
      let failure: unknown;
      try {
        const { values, empty } = await readDataFile(file, this.logger);
        // An empty file where there were values is a rewrite in progress, not a deliberate "no keys".
        if (!(empty && previous && previous.size > 0)) return this.good(file, values);
        failure = new BackendError(`file backend: ${file} is empty`, 'file', [file]);
      } catch (err) {
        failure = err;
      }
      if (!previous) throw failure;
      if (attempt >= REREAD_ATTEMPTS) return this.standIn(file, previous, failure);
      this.logger.debug(
        `${errorMessage(failure)}; reading it again in ${REREAD_PAUSE_MS} ms (attempt ${attempt + 1} of ${REREAD_ATTEMPTS})`,
      );
      try {
        await sleep(REREAD_PAUSE_MS, undefined, signal ? { signal } : {});
      } catch (err) {
        // timers/promises rejects with its own AbortError; the seam promises the signal's reason.
        signal?.throwIfAborted();
        throw err;
      }
    }
  }

  private good(file: string, values: KVPairs): KVPairs {
    this.lastGood.set(file, values);
    if (this.standingIn.delete(file)) this.logger.info(`file backend: ${file} reads correctly again`);
    return values;
  }

  private standIn(file: string, previous: KVPairs, failure: unknown): KVPairs {
    if (!this.standingIn.has(file)) {
      this.standingIn.add(file);
      this.logger.warn(
        `${errorMessage(failure)}; using its last good content until it reads correctly (a rewrite in progress?)`,
      );
    }
    return previous;
  }
}
