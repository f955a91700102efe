import { statSync } from 'node:fs';
import { DEFAULT_LAYOUT, formatGoTime, NAMED_LAYOUTS } from '../go-time.js';
import type { TimeZoneChoice } from '../go-time.js';
import type { KVStore } from '../kv-store.js';
import { valueError } from '../value-description.js';
import { optionalStringArg, stringArg } from './args.js';
import { defineHelper } from './spec.js';

/** What the host contributes: environment, files, the clock. */
export const systemHelpers = [
  // An empty variable counts as unset, as in confd.
  defineHelper(
    'getenv',
    [1, 2],
    (args) => process.env[stringArg(args, 0)] || (optionalStringArg(args, 1) ?? ''),
  ),
  defineHelper('fileExists', 1, (args) => fileExists(stringArg(args, 0))),
  /**
   * confd's `datetime` is Go's time.Now, formatted with `.Format "layout"`. Handlebars cannot call methods,
   * so the layout (a Go reference layout or a constant name such as "RFC3339", or "Unix" for epoch
   * seconds) and the zone ("Local" or "UTC") are arguments.
   */
  defineHelper('datetime', [0, 2], (args, { now, store }) => {
    const layout = optionalStringArg(args, 0);
    const zone = timeZone(optionalStringArg(args, 1) ?? 'Local', store);
    if (layout === 'Unix') return Math.floor(now.getTime() / 1000);
    return formatGoTime(now, layout === undefined ? DEFAULT_LAYOUT : (NAMED_LAYOUTS[layout] ?? layout), zone);
  }),
];

/** Like confd: only "does not exist" means false; a file we may not stat still exists. */
function fileExists(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOTDIR';
  }
}

function timeZone(name: string, store: KVStore): TimeZoneChoice {
  if (name === 'UTC') return 'utc';
  if (name === 'Local') return 'local';
  throw valueError(store, name, (value) => `unknown time zone: ${value} (use "Local" or "UTC")`);
}
