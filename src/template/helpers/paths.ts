import { goBase, goDir } from '../go-path.js';
import { stringArg } from './args.js';
import { defineHelper } from './spec.js';

/** Go's path.Base and path.Dir: lexical, '/'-separated, handy on store keys. */
export const pathHelpers = [
  defineHelper('base', 1, (args) => goBase(stringArg(args, 0))),
  defineHelper('dir', 1, (args) => goDir(stringArg(args, 0))),
];
