import { DurationTooLongError, MAX_DURATION_MS, parseDuration } from './duration.js';

/**
 * How long watch mode lets a burst of changes settle before rendering: `minMs` after the last change, but
 * never later than `maxMs` after the first. `{ minMs: 0, maxMs: 0 }` renders at once.
 */
export interface WaitWindow {
  minMs: number;
  maxMs: number;
}

/** Render at once: what "no wait" means, and what a resource writes as `wait = "0"` to opt out of -wait. */
export const NO_WAIT: Readonly<WaitWindow> = Object.freeze({ minMs: 0, maxMs: 0 });

/**
 * parseWaitWindow('2s:10s') -> { minMs: 2000, maxMs: 10000 }. A single duration is the minimum and the
 * maximum is four times it, as consul-template reads its `wait` (capped at MAX_DURATION_MS, as a derived
 * value the user never wrote). Throws a RangeError saying what is accepted, a DurationTooLongError for a
 * part longer than a timer can wait; the caller adds where the text came from.
 */
export function parseWaitWindow(text: string): WaitWindow {
  const parts = text.split(':');
  if (parts.length > 2) throw invalid();
  const [minText = '', maxText] = parts;
  let minMs: number;
  let maxMs: number;
  try {
    minMs = parseDuration(minText);
    maxMs = maxText === undefined ? Math.min(minMs * 4, MAX_DURATION_MS) : parseDuration(maxText);
  } catch (err) {
    if (err instanceof DurationTooLongError) throw err;
    throw invalid();
  }
  if (maxMs < minMs) throw new RangeError('the maximum is shorter than the minimum');
  return { minMs, maxMs };
}

function invalid(): RangeError {
  return new RangeError('expected min:max durations such as "2s:10s", or one duration (max = 4 x min)');
}
