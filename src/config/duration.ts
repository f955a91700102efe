/**
 * Go-style durations ("500ms", "5s", "2m", "1h30m"), returned in milliseconds. confd users write Go
 * durations; the installed libraries only offer `ms` transitively (not a dependency we may rely on) and it
 * rejects compound forms such as "1h30m", so this stays a small parser of Go's grammar without the sign.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign, as Go prints it
  μs: 1e-3, // U+03BC Greek mu, which Go accepts too
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PLAIN_NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const SEGMENT_SOURCE = String.raw`(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)`;

export interface DurationOptions {
  /** Accept a bare number and read it as seconds ("5" -> 5000), as flags such as -connect-timeout do. */
  plainSeconds?: boolean;
}

/**
 * parseDuration('2s') -> 2000, parseDuration('1h30m') -> 5_400_000, parseDuration('5') -> 5000 (unless
 * plainSeconds is false). Throws a RangeError saying what is accepted.
 */
export function parseDuration(text: string, options: DurationOptions = {}): number {
  const input = text.trim();
  const plainSeconds = options.plainSeconds ?? true;
  if (PLAIN_NUMBER.test(input)) {
    if (plainSeconds) return Number(input) * 1000;
    if (Number(input) === 0) return 0; // Go accepts a unitless "0"
  } else if (input !== '') {
    const segment = new RegExp(SEGMENT_SOURCE, 'y');
    let total = 0;
    let consumed = 0;
    for (let match = segment.exec(input); match; match = segment.exec(input)) {
      total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
      consumed = segment.lastIndex;
    }
    if (consumed === input.length && Number.isFinite(total)) return total;
  }
  const plain = plainSeconds ? ', or a number of seconds' : '';
  throw new RangeError(
    `invalid duration "${text}": use a number with a unit such as 500ms, 5s, 2m or 1h30m${plain}`,
  );
}
