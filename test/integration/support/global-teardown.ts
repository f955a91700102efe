/**
 * Mocha global fixture: stops every store and cluster the tests started. Load it with
 * `mocha --require test/integration/support/global-teardown.ts ...` (scripts/test-all.sh does).
 */
import { stopAllClusters } from './clusters.js';
import { stopAllStores } from './stores.js';

export async function mochaGlobalTeardown(): Promise<void> {
  // Both run even when one fails: a failed store stop must not leave a cluster behind.
  const results = await Promise.allSettled([stopAllClusters(), stopAllStores()]);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  if (failures.length > 0) throw new Error(failures.join('\n'));
}
