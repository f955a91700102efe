import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { StoreClient, WatchResult } from '../../../src/backends/store-client.js';
import { BackendError } from '../../../src/errors.js';

export interface Followed {
  seen: WatchResult[];
  /** BackendErrors the calls rejected with (the store was away). */
  failures: BackendError[];
}

/**
 * Follows `prefix` the way the watch processor does from an armed `index`: keep passing back the index it
 * got, reading `key` after every answer, until the key holds `wanted`. A BackendError (store away) is
 * retried with the same index, so recovery must come from the backend itself.
 */
export async function follow(
  client: StoreClient,
  prefix: string,
  key: string,
  wanted: string,
  armedIndex: number,
): Promise<Followed> {
  const followed: Followed = { seen: [], failures: [] };
  const signal = new AbortController().signal;
  let index = armedIndex;
  for (;;) {
    try {
      if ((await client.getValues([key]))[key] === wanted) return followed;
      const result = await client.watchPrefix(prefix, [key], { waitIndex: index, signal });
      expect(result.index).to.be.greaterThan(index);
      followed.seen.push(result);
      index = result.index;
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
      followed.failures.push(err);
      await sleep(100);
    }
  }
}
