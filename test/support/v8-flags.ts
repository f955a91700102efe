import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Preloaded into a run: records each V8 flag the run sets and the Node.js built-in modules loaded after the
 * first. Any flag set at run time makes V8 refuse the code cache Node.js carries for its own modules, so
 * every one loaded afterwards is compiled from source (node:http2 and what it brings: ~6 → ~16 ms).
 */
const recorder = `'use strict';
const v8 = require('node:v8');
const set = v8.setFlagsFromString;
const flags = [];
let from;
v8.setFlagsFromString = function (flag) {
  if (from === undefined) from = process.moduleLoadList.length;
  flags.push(flag);
  return set.call(this, flag);
};
process.on('exit', () => {
  const after = from === undefined ? [] : process.moduleLoadList.slice(from);
  const builtins = after.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
  require('node:fs').writeFileSync(process.env.V8_FLAGS_REPORT, JSON.stringify({ flags, builtins }));
});
`;

export interface V8FlagsReport {
  /** The run's exit code and stderr, for the assertion message. */
  status: number | null;
  stderr: string;
  /** Every flag the run set, in order. */
  flags: string[];
  /** Built-in modules loaded after the first flag was set. */
  builtins: string[];
}

/** Runs `node <bin> ...args` with the recorder preloaded; `env` is the child's whole environment. */
export function runRecordingV8Flags(bin: string, args: string[], env: Record<string, string>): V8FlagsReport {
  const dir = mkdtempSync(join(tmpdir(), 'confd-v8-flags-'));
  try {
    writeFileSync(join(dir, 'recorder.cjs'), recorder);
    const report = join(dir, 'report.json');
    const child = spawnSync(process.execPath, ['-r', join(dir, 'recorder.cjs'), bin, ...args], {
      encoding: 'utf8',
      env: { ...env, V8_FLAGS_REPORT: report },
    });
    const recorded = JSON.parse(readFileSync(report, 'utf8')) as Pick<V8FlagsReport, 'flags' | 'builtins'>;
    return { status: child.status, stderr: child.stderr, ...recorded };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
