import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A run of `node -r <recorder> <bin> ...args`: its exit, its stderr, and what the recorder wrote. */
export interface RecordedRun<T> {
  /** The run's exit code and stderr, for the assertion message. */
  status: number | null;
  stderr: string;
  report: T;
}

/**
 * Runs `node <bin> ...args` with `recorder` (CommonJS source) preloaded, which writes its report as JSON to
 * the file named by RECORDED_RUN_REPORT when the run exits; `env` is the child's whole environment.
 */
export function runRecorded<T>(
  recorder: string,
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): RecordedRun<T> {
  const dir = mkdtempSync(join(tmpdir(), 'confd-recorded-run-'));
  try {
    writeFileSync(join(dir, 'recorder.cjs'), recorder);
    const report = join(dir, 'report.json');
    const child = spawnSync(process.execPath, ['-r', join(dir, 'recorder.cjs'), bin, ...args], {
      encoding: 'utf8',
      env: { ...env, RECORDED_RUN_REPORT: report },
    });
    return {
      status: child.status,
      stderr: child.stderr,
      report: JSON.parse(readFileSync(report, 'utf8')) as T,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
