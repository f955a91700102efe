import { runRecorded } from './recorded-run.js';

/**
 * Preloaded into a run of bin/confd: records, for each script of dist/ that V8 compiles, the cache file V8
 * took for it (null when it compiled from source: no cache, or one it refused). Wraps node:vm's Script and
 * node:fs's readFileSync before bin/load-bundle.js takes them, so the launcher's own choice is what is seen.
 */
const recorder = `'use strict';
const fs = require('node:fs');
const vm = require('node:vm');
const { basename } = require('node:path');
const read = fs.readFileSync;
let lastCache;
fs.readFileSync = function (path, ...rest) {
  const data = read.call(this, path, ...rest);
  if (typeof path === 'string' && path.endsWith('.cache')) lastCache = basename(path);
  return data;
};
const caches = {};
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(source, options) {
    super(source, options);
    if (options && typeof options.filename === 'string' && options.filename.includes('/dist/')) {
      caches[basename(options.filename)] = options.cachedData && !this.cachedDataRejected ? lastCache : null;
    }
    lastCache = undefined;
  }
};
process.on('exit', () => fs.writeFileSync(process.env.RECORDED_RUN_REPORT, JSON.stringify(caches)));
`;

export interface CodeCachesReport {
  status: number | null;
  stderr: string;
  /** Script of dist/ → the cache file V8 took for it, or null. */
  caches: Record<string, string | null>;
}

/** Runs `node <bin> ...args` with the recorder preloaded; `env` is the child's whole environment. */
export function runRecordingCodeCaches(
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): CodeCachesReport {
  const run = runRecorded<CodeCachesReport['caches']>(recorder, bin, args, env);
  return { status: run.status, stderr: run.stderr, caches: run.report };
}
