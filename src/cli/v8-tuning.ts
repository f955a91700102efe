import { setFlagsFromString } from 'node:v8';
import { allowFullCollections } from '../collect-garbage.js';

/**
 * V8 settings for a run. V8 stamps a code cache with the flags it was made under and refuses it under any
 * others, from the moment one is set. Given on the command line, these would cost the bundle's cache
 * (bin/load-bundle.js); set at the start of a run, they cost the cache Node.js carries for its own modules,
 * for every one loaded afterwards (an etcd run's node:http2, tls and crypto: ~6 ms became ~16; onetime
 * 1,000 keys 66.4 → 59.0 ms, 10,000 keys 129.8 → 104.8 ms once they were loaded first). So a run sets them
 * once it has loaded its backend and the Node.js modules its client needs (backends/factory.ts
 * prepareBackend), and before the client's own library, whose load the small young generation keeps
 * smaller (ioredis: a Redis run over 10,000 keys peaks 9 MiB higher when the flags come after it).
 * test/e2e/v8-tuning.test.ts and test/integration/onetime-startup.test.ts check that a `-onetime` run on the
 * file backend and on each store (plain endpoints) loads no module of Node.js after its flags. Later still
 * come node:child_process for check and reload commands and owner names, node:https for an https Consul
 * agent, node:dns for SRV records, and a daemon's metrics endpoint: a few milliseconds, once. The flags only
 * change what V8 does from then on; the third, `--expose-gc`, lets collect-garbage.ts run.
 *
 * - The young generation keeps its initial size (two 1 MiB semi-spaces) instead of growing to 16 MiB
 *   each: a onetime run over 10,000 keys peaks ~10 MiB lower, a daemon stays smaller, and no run measured
 *   slower (2,000 resources in sync: 304 ms, 332 ms with growth).
 * - A `-onetime` run stays on V8's baseline compilers (Ignition and Sparkplug, `--max-opt=1`): a run of
 *   tens of milliseconds ends before an optimized function pays for its compile, which competes for the
 *   CPU (two cores here) and maps ~7 MiB more of the node binary. onetime 1,000 keys: etcd 71 → 62 ms,
 *   Consul 65 → 55, ZooKeeper 89 → 74; 10,000 keys: within 3% either way, 7 MiB less memory on every store;
 *   100,000 etcd keys: 0.95 → 1.25 s. A daemon keeps the optimizing compiler: it renders for days.
 *   Setting it back later measured no faster (what was compiled meanwhile stays as it is), so this is
 *   decided once, by the mode.
 *
 * `CONFD_V8_TUNING=off` keeps V8's defaults (and so no collection by collect-garbage.ts): for a -onetime run over a very large store, and for the build's
 * training run (scripts/code-cache.mjs), since V8 stamps a code cache with the flags it was written under
 * and rejects it under others.
 */
export function tuneV8(settings: { onetime: boolean }, env: NodeJS.ProcessEnv): void {
  if (env.CONFD_V8_TUNING === 'off') return;
  setFlagsFromString('--semi-space-growth-factor=1');
  if (settings.onetime) setFlagsFromString('--max-opt=1');
  allowFullCollections();
}
