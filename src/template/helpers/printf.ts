import { goSprintf } from '../go-printf.js';
import { stringArg } from './args.js';
import { defineHelper } from './spec.js';

/** fmt.Sprintf: `{{printf "/nested/%s/*" this}}`. */
export const printfHelpers = [
  defineHelper('printf', [1, Infinity], (args) => goSprintf(stringArg(args, 0), args.slice(1))),
];
