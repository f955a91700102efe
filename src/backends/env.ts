import { BackendError } from '../errors.js';
import { cleanKey } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { SharedWatches, type WatchSource } from './shared-watches.js';
import type { BackendOptions, KVPairs, PrefixWatch, RequestOptions, StoreClient } from './store-client.js';
import { WatchEventBuffer } from './watch-event-buffer.js';

type Environment = Readonly<Record<string, string | undefined>>;

/** `-backend env`: keys are environment variables, `/database/host` <-> `DATABASE_HOST`, as in confd. */
export async function createClient(_options: BackendOptions, _logger: Logger): Promise<EnvStoreClient> {
  return new EnvStoreClient();
}

/** confd's transform: drop the leading '/', '/' -> '_', upper case. `/database/host` -> `DATABASE_HOST`. */
export function keyToEnvName(key: string): string {
  return key.replace(/^\//, '').replaceAll('/', '_').toUpperCase();
}

/** confd's reverse transform: lower case, '_' -> '/', leading '/'. `DATABASE_HOST` -> `/database/host`. */
export function envNameToKey(name: string): string {
  return `/${name.toLowerCase().replaceAll('_', '/')}`;
}

export class EnvStoreClient implements StoreClient {
  /** @param env read at every getValues, so the live process.env by default; tests pass their own. */
  constructor(private readonly env: Environment = process.env) {}

  /**
   * Every variable named like one of `keys` or lying under it: `/database` yields DATABASE and
   * DATABASE_HOST, not DATABASEX (confd matched any name prefix; keys here follow path boundaries). The
   * key `/` yields every variable. Names are matched case-sensitively, as the transform upper-cases.
   */
  async getValues(keys: readonly string[], options: RequestOptions = {}): Promise<KVPairs> {
    options.signal?.throwIfAborted();
    const prefixes = keys.map((key) => keyToEnvName(cleanKey(key)));
    const values: KVPairs = new Map();
    for (const [name, value] of Object.entries(this.env)) {
      if (value === undefined) continue;
      if (prefixes.some((p) => p === '' || name === p || name.startsWith(`${p}_`)))
        values.set(envNameToKey(name), value);
    }
    return values;
  }

  /**
   * The environment of a running process cannot change, so there is never anything to report: arming
   * answers at once (index 1) so that the first render happens; a wait lasts until its signal aborts.
   */
  watch(prefix: string, options: RequestOptions = {}): Promise<PrefixWatch> {
    return this.watches.acquire(prefix, options.signal);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    await this.watches.closeAll(new BackendError('env: client is closed', 'env'));
  }

  private readonly watches = new SharedWatches<WatchSource>(() => unchangingSource(), {
    backend: 'env',
    endpoints: [],
  });
}

/** A watch on something that never changes: nothing to arm, nothing ever to report. */
function unchangingSource(): WatchSource {
  const changes = new WatchEventBuffer(1);
  let failed = false;
  return {
    get failed() {
      return failed;
    },
    arm: async () => changes.latest,
    wait: (afterIndex, _keys, signal) => changes.wait(afterIndex, signal),
    close: (err) => {
      failed = true;
      changes.fail(err);
    },
  };
}
