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
// The two micro signs as \u escapes, which RegExp reads as the characters: a bundle with one non-ASCII
// character is held by V8 as a two-byte string, twice the memory of the whole bundle's source.
const SEGMENT_SOURCE = String.raw`(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)`;

/**
 * The longest wait a Node.js timer can do: setTimeout fires a longer delay after 1 ms, so an interval or
 * timeout above it would busy-loop or kill every command at once. Every duration confd-ts reads is capped.
 */
export const MAX_DURATION_MS = 2_147_483_647;

/** A well-formed duration a timer cannot wait. `reason` reads well after any caller's own context. */
export class DurationTooLongError extends RangeError {
  readonly reason: string;

  constructor(readonly input: string) {
    const reason = `longer than ${MAX_DURATION_MS} ms (about 24.8 days), the longest a timer can wait`;
    super(`invalid duration "${input}": ${reason}`);
    this.name = 'DurationTooLongError';
    this.reason = reason;
  }
}

/**
 * Returns `ms` if a timer can wait that long, else throws DurationTooLongError naming `input` (the text the
 * user wrote). parseDuration calls it; values that bypass it (whole seconds, TOML numbers) must too.
 */
export function checkTimerRange(ms: number, input: string): number {
  if (ms > MAX_DURATION_MS) throw new DurationTooLongError(input);
  return ms;
}

export interface DurationOptions {
  /** Accept a bare number and read it as seconds ("5" -> 5000), as flags such as -connect-timeout do. */
  plainSeconds?: boolean;
}

/**
 * parseDuration('2s') -> 2000, parseDuration('1h30m') -> 5_400_000, parseDuration('5') -> 5000 (unless
 * plainSeconds is false). Throws a RangeError saying what is accepted, a DurationTooLongError above
 * MAX_DURATION_MS.
 */
export function parseDuration(text: string, options: DurationOptions = {}): number {
  const input = text.trim();
  const plainSeconds = options.plainSeconds ?? true;
  if (PLAIN_NUMBER.test(input)) {
    if (plainSeconds) return checkTimerRange(Number(input) * 1000, text);
    if (Number(input) === 0) return 0; // Go accepts a unitless "0"
  } else if (input !== '') {
    const segment = new RegExp(SEGMENT_SOURCE, 'y');
    let total = 0;
    let consumed = 0;
    for (let match = segment.exec(input); match; match = segment.exec(input)) {
      total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
      consumed = segment.lastIndex;
    }
    if (consumed === input.length && Number.isFinite(total)) return checkTimerRange(total, text);
  }
  const plain = plainSeconds ? ', or a number of seconds' : '';
  throw new RangeError(
    `invalid duration "${text}": use a number with a unit such as 500ms, 5s, 2m or 1h30m${plain}`,
  );
}
