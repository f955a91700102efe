import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * Runs one full garbage collection now. For a library whose load leaves megabytes of garbage in V8's old
 * space (ioredis: see redis.ts), which a `-onetime` run otherwise carries to its exit: V8 starts its first
 * full collection only once the old space reaches its initial limit, tens of MiB, which a run over 10,000
 * keys never does, so the garbage adds to the run's peak memory instead of making room for its data.
 *
 * V8's `gc` function exists only in a context created after `--expose-gc` is set, hence the flag at run time
 * and one small context for the function. Not on the command line: V8 would reject the bundle's code cache
 * (bin/load-bundle.js), whose flags must be the defaults. ~1.5 ms for the context the first time, then the
 * collection itself (~3 ms with ioredis loaded).
 */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
