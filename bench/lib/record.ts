/**
 * Output of the suite: every scenario prints one JSON line on stdout and appends the same line to
 * bench/results/<date>.jsonl (gitignored), which `npm run bench:report` turns into the tables of BENCHMARKS.md.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from './confd.js';

export interface BenchRecord {
  scenario: string;
  store?: string;
  /** The exact command line measured, as a user would type it from the workspace. */
  command?: string;
  [field: string]: unknown;
}

export const resultsDir = join(benchDir, 'results');
/** One id per `npm run bench`: the report reads the records of the latest run. */
export const runId = new Date().toISOString();
const file = join(resultsDir, `${runId.slice(0, 10)}.jsonl`);

export function emit(record: BenchRecord): void {
  const line = JSON.stringify({ ...record, run: runId });
  mkdirSync(resultsDir, { recursive: true });
  appendFileSync(file, `${line}\n`);
  console.log(line);
}

/** Progress for the person running the suite; stderr, so stdout stays one JSON line per scenario. */
export function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}
