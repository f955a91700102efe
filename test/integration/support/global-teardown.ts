/**
 * Mocha global fixture: stops every store the integration tests started. Load it with
 * `mocha --require test/integration/support/global-teardown.ts ...` (scripts/test-all.sh does).
 */
import { stopAllStores } from './stores.js';

export async function mochaGlobalTeardown(): Promise<void> {
  await stopAllStores();
}
