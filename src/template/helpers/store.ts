import { optionalStringArg, stringArg } from './args.js';
import { defineHelper } from './spec.js';

/** memkv's functions over the render's key/value store. */
export const storeHelpers = [
  defineHelper('exists', 1, (args, { store }) => store.exists(stringArg(args, 0))),
  defineHelper('get', 1, (args, { store }) => store.get(stringArg(args, 0))),
  defineHelper('gets', 1, (args, { store }) => store.gets(stringArg(args, 0))),
  defineHelper('getv', [1, 2], (args, { store }) =>
    store.getv(stringArg(args, 0), optionalStringArg(args, 1)),
  ),
  defineHelper('getvs', 1, (args, { store }) => store.getvs(stringArg(args, 0))),
  defineHelper('ls', 1, (args, { store }) => store.ls(stringArg(args, 0))),
  defineHelper('lsdir', 1, (args, { store }) => store.lsdir(stringArg(args, 0))),
];
