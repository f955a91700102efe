import { runRecorded } from './recorded-run.js';

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
  require('node:fs').writeFileSync(process.env.RECORDED_RUN_REPORT, JSON.stringify({ flags, builtins }));
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
  const run = runRecorded<Pick<V8FlagsReport, 'flags' | 'builtins'>>(recorder, bin, args, env);
  return { status: run.status, stderr: run.stderr, ...run.report };
}
