import { intArg } from './args.js';
import { defineHelper } from './spec.js';

/** confd's integer arithmetic: int arguments only, division truncates toward zero. */
export const mathHelpers = [
  defineHelper('add', 2, (args) => intArg(args, 0) + intArg(args, 1)),
  defineHelper('sub', 2, (args) => intArg(args, 0) - intArg(args, 1)),
  defineHelper('mul', 2, (args) => intArg(args, 0) * intArg(args, 1)),
  defineHelper('div', 2, (args) => Math.trunc(intArg(args, 0) / nonZero(intArg(args, 1))) + 0),
  defineHelper('mod', 2, (args) => (intArg(args, 0) % nonZero(intArg(args, 1))) + 0),
  // seq 3 5 -> [3 4 5]; empty when first > last, like GNU seq.
  defineHelper('seq', 2, (args) => {
    const [first, last] = [intArg(args, 0), intArg(args, 1)];
    return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
  }),
];

function nonZero(n: number): number {
  if (n === 0) throw new Error('integer divide by zero');
  return n;
}
