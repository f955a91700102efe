import { fromJs } from './go-format.js';
import { sprintf } from './go/fmt-printf.js';
import { FLOAT64 } from './go/types.js';
import { Value } from './go/values.js';

/**
 * fmt.Sprintf for the Handlebars printf helper: the Go engine's fmt over the helpers' plain values, so
 * both engines format alike (%v of lists and maps, %!d(string=x) for mistakes, %!s(MISSING) ...).
 * JavaScript numbers carry no int/float64 distinction, so an integral number given to a float verb
 * (%f, %e, %g) is taken as the float64 a JSON number would be in Go.
 */
export function goSprintf(format: string, args: readonly unknown[]): string {
  const verbs = verbsOf(format);
  return sprintf(
    format,
    args.map((arg, i) =>
      typeof arg === 'number' && FLOAT_VERBS.has(verbs[i] ?? '') ? new Value(FLOAT64, arg) : fromJs(arg),
    ),
  );
}

const FLOAT_VERBS = new Set(['e', 'E', 'f', 'F', 'g', 'G']);

/** The verbs of a format in argument order (argument indexes and `*` widths are not followed). */
function verbsOf(format: string): string[] {
  const verbs: string[] = [];
  for (const match of format.matchAll(/%[-+# 0-9.*[\]]*(.)/gsu)) {
    if (match[1] !== '%') verbs.push(match[1] as string);
  }
  return verbs;
}
