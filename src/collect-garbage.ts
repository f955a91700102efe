import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let allowed = false;
let gc: (() => void) | undefined;

/**
 * Lets collectGarbage() run from now on: part of a run's V8 tuning (cli/v8-tuning.ts), which sets its flags
 * in one place and not at all with `CONFD_V8_TUNING=off`. V8's `gc` function exists only in a context
 * created after `--expose-gc` is set, hence the flag here and one small context for the function (~1.5 ms,
 * made on the first collection). Not on the command line: V8 would refuse the bundle's code cache
 * (bin/load-bundle.js), which is made under V8's default flags.
 */
export function allowFullCollections(): void {
  if (allowed) return;
  setFlagsFromString('--expose-gc');
  allowed = true;
}

/**
 * Runs one full garbage collection now, if the run's tuning allows it (a no-op otherwise). For a library
 * whose load leaves megabytes of garbage in V8's old space (ioredis: see redis.ts), which a `-onetime` run
 * would otherwise carry to its exit: V8 starts its first full collection only once the old space reaches
 * its initial limit, tens of MiB, which a run over 10,000 keys never does, so the garbage adds to the run's
 * peak memory instead of making room for its data. ~3 ms with ioredis loaded.
 */
export function collectGarbage(): void {
  if (!allowed) return;
  gc ??= runInNewContext('gc') as () => void;
  gc();
}
