import { collectionHelpers } from './collections.js';
import { convertHelpers } from './convert.js';
import { encodingHelpers } from './encoding.js';
import { goBuiltinHelpers } from './go-builtins.js';
import { mathHelpers } from './math.js';
import { netHelpers } from './net.js';
import { pathHelpers } from './paths.js';
import { printfHelpers } from './printf.js';
import type { HelperSpec } from './spec.js';
import { storeHelpers } from './store.js';
import { stringHelpers } from './strings.js';
import { systemHelpers } from './system.js';

/**
 * Every template function, by family. The one place a new family is added. Free of Handlebars (its
 * binding is registry.ts), so the Go engine takes its functions from here without loading it.
 */
export const HELPER_SPECS: readonly HelperSpec[] = [
  ...storeHelpers,
  ...stringHelpers,
  ...pathHelpers,
  ...convertHelpers,
  ...encodingHelpers,
  ...mathHelpers,
  ...collectionHelpers,
  ...systemHelpers,
  ...netHelpers,
  ...goBuiltinHelpers,
  ...printfHelpers,
];

export const HELPER_NAMES: readonly string[] = HELPER_SPECS.map((spec) => spec.name);

if (new Set(HELPER_NAMES).size !== HELPER_NAMES.length) throw new Error('duplicate template helper name');
