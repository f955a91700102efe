import { errorMessage } from '../../errors.js';
import { unmarshalJson } from '../go-json.js';
import { compareGoStrings } from '../go-strings.js';
import type { KVStore } from '../kv-store.js';
import { valueError } from '../value-description.js';
import { stringArg } from './args.js';
import { defineHelper } from './spec.js';

/**
 * Turning store strings into structured values: JSON, booleans, integers. Errors name the key holding a
 * bad value, never the value: Go's `parsing "secret"` becomes `parsing the value of /app/port`.
 */
export const convertHelpers = [
  defineHelper('json', 1, (args, { store }) => {
    const value = parseJson(stringArg(args, 0), store);
    if (value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value))
      throw cannotUnmarshal(value, 'map[string]interface {}');
    return inGoOrder(value);
  }),
  defineHelper('jsonArray', 1, (args, { store }) => {
    const value = parseJson(stringArg(args, 0), store);
    if (value === null) return [];
    if (!Array.isArray(value)) throw cannotUnmarshal(value, '[]interface {}');
    return inGoOrder(value);
  }),
  defineHelper('parseBool', 1, (args, { store }) => {
    const s = stringArg(args, 0);
    if (TRUE_STRINGS.has(s)) return true;
    if (FALSE_STRINGS.has(s)) return false;
    throw valueError(store, s, (value) => `strconv.ParseBool: parsing ${value}: invalid syntax`);
  }),
  defineHelper('atoi', 1, (args, { store }) => {
    const s = stringArg(args, 0);
    if (!/^[+-]?[0-9]+$/.test(s))
      throw valueError(store, s, (value) => `strconv.Atoi: parsing ${value}: invalid syntax`);
    const n = Number(s);
    if (!Number.isSafeInteger(n))
      throw valueError(store, s, (value) => `strconv.Atoi: parsing ${value}: value out of range`);
    return n;
  }),
];

const TRUE_STRINGS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_STRINGS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's json.Unmarshal (what it accepts, and its error texts), naming the key instead of the value. */
function parseJson(text: string, store: KVStore): unknown {
  try {
    return unmarshalJson(text);
  } catch (err) {
    // Go's messages quote the offending character ("invalid character 'x' looking for ..."): drop it.
    const what = errorMessage(err).replace(/ '(?:[^'\\]|\\.)*'/g, '');
    throw valueError(store, text, (value) => `invalid JSON in ${value}: ${what}`);
  }
}

function cannotUnmarshal(value: unknown, goType: string): Error {
  const kind = Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value;
  return new Error(`json: cannot unmarshal ${kind} into Go value of type ${goType}`);
}

/** Go ranges over maps in key order; rebuilding objects with sorted keys makes `#each` do the same. */
function inGoOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(inGoOrder);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).sort(([a], [b]) => compareGoStrings(a, b));
  return Object.fromEntries(entries.map(([k, v]) => [k, inGoOrder(v)]));
}
