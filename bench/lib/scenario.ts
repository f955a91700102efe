import type { StoreName } from './stores.js';

export interface BenchOptions {
  /** Fewer runs and samples, the largest sizes left out: a smoke test of the suite, not figures. */
  quick: boolean;
  /** Stores to run the store scenarios on (default: all four). */
  stores: StoreName[];
}

export interface Scenario {
  name: string;
  summary: string;
  run(options: BenchOptions): Promise<void>;
}

/** `quick ? q : full`, for run counts. */
export const runs = (options: BenchOptions, full: number, q: number): number => (options.quick ? q : full);
