import { cleanKey } from '../key-path.js';
import type { Logger } from '../logging/logger.js';
import { abortReason } from './watch-event-buffer.js';
import type { BackendOptions, KVPairs, StoreClient, WatchOptions, WatchResult } from './store-client.js';

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
  async getValues(keys: readonly string[]): Promise<KVPairs> {
    const prefixes = keys.map((key) => keyToEnvName(cleanKey(key)));
    const values: KVPairs = {};
    for (const [name, value] of Object.entries(this.env)) {
      if (value === undefined) continue;
      if (prefixes.some((p) => p === '' || name === p || name.startsWith(`${p}_`)))
        values[envNameToKey(name)] = value;
    }
    return values;
  }

  /**
   * The environment of a running process cannot change, so there is never anything to report: waitIndex 0
   * resolves at once (index 1) so that the first render happens; any other wait lasts until the signal
   * aborts and then rejects with its reason (an AbortError).
   */
  async watchPrefix(_prefix: string, _keys: readonly string[], options: WatchOptions): Promise<WatchResult> {
    const { signal } = options;
    signal.throwIfAborted();
    if (options.waitIndex <= 0) return { index: 1 };
    return new Promise<WatchResult>((_resolve, reject) => {
      signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
    });
  }

  async close(): Promise<void> {}
}
