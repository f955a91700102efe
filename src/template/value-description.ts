import { goByteLength } from './go-strings.js';
import type { KVStore } from './kv-store.js';

/** A helper refused a value; names the keys holding it instead of quoting it. */
export class StoreValueError extends Error {
  constructor(
    message: string,
    /** The keys whose value it was; empty when the value came from elsewhere. */
    readonly keys: readonly string[],
  ) {
    super(message);
    this.name = 'StoreValueError';
  }
}

/** How many holding keys an error names before it only counts the rest. */
const NAMED_KEYS = 3;

/**
 * Words for a value in an error message that never show the value (store values can be secrets): the
 * keys that hold it ("the value of /app/port"), or, for a literal or a computed string, only its length.
 */
export function describeValue(store: KVStore, value: string): { text: string; keys: string[] } {
  const keys = store.keysHolding(value);
  if (keys.length === 0) {
    const bytes = goByteLength(value);
    return { text: bytes === 0 ? 'an empty string' : `a ${bytes}-byte string`, keys };
  }
  const named = keys.slice(0, NAMED_KEYS);
  const rest = keys.length - named.length;
  const list =
    rest > 0
      ? `${named.join(', ')} and ${rest} other key${rest === 1 ? '' : 's'}`
      : named.length === 1
        ? (named[0] as string)
        : `${named.slice(0, -1).join(', ')} and ${named.at(-1) as string}`;
  return { text: `the value of ${list}`, keys };
}

/** A StoreValueError whose message `message` builds around the description of `value`. */
export function valueError(
  store: KVStore,
  value: string,
  message: (described: string) => string,
): StoreValueError {
  const { text, keys } = describeValue(store, value);
  return new StoreValueError(message(text), keys);
}
