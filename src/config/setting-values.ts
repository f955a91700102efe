import { DurationTooLongError, checkTimerRange, parseDuration } from './duration.js';
import type { SettingSpec } from './setting-specs.js';
import type { LogLevel, Settings } from './settings.js';
import type { WaitWindow } from './wait-window.js';
import { parseWaitWindow } from './wait-window.js';

/**
 * Turns flag text, CONFD_* text and TOML values into typed setting values. Failures throw InvalidValue with
 * the reason only; the caller knows the source (flag, variable, file and key) and builds the typed error.
 */

export type SettingValue = string | boolean | number | string[] | WaitWindow;

export class InvalidValue extends Error {}

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool, which is what `-noop=false` goes through in confd. */
export function parseBoolean(text: string): boolean {
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  throw new InvalidValue('expected true or false');
}

const LOG_LEVELS: Readonly<Record<string, LogLevel>> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn', // logrus spelling, accepted by confd
  error: 'error',
};

function parseLogLevel(text: string): LogLevel {
  const level = LOG_LEVELS[text.toLowerCase()];
  if (!level) throw new InvalidValue('expected debug, info, warn or error');
  return level;
}

function parseScheme(text: string): Settings['scheme'] {
  const scheme = text.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') throw new InvalidValue('expected http or https');
  return scheme;
}

function parseSeconds(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new InvalidValue('expected a whole number of seconds, at least 1');
  }
  return secondsInTimerRange(Number(text), text);
}

/** -interval is kept in seconds but waited on with a timer, so it shares the durations' ceiling. */
function secondsInTimerRange(seconds: number, text: string): number {
  try {
    checkTimerRange(seconds * 1000, text);
  } catch (err) {
    throw err instanceof DurationTooLongError ? new InvalidValue(err.reason) : err;
  }
  return seconds;
}

function parseTimeout(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text, { plainSeconds: true });
  } catch (err) {
    if (err instanceof DurationTooLongError) throw new InvalidValue(err.reason);
    throw new InvalidValue('expected a duration such as 500ms, 5s or 1m30s, or a number of seconds');
  }
  if (ms <= 0) throw new InvalidValue('expected a duration greater than zero');
  return ms;
}

function parseChoice(spec: SettingSpec, text: string): string {
  const choices = spec.choices ?? [];
  const value = text.toLowerCase();
  if (!choices.includes(value)) throw new InvalidValue(`expected ${choices.join(' or ')}`);
  return value;
}

/** host:port with a port in range; an empty host means every interface, an IPv6 host is bracketed. */
function parseAddress(text: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]*):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65535)
    throw new InvalidValue('expected host:port, such as 127.0.0.1:9100 (port 0-65535; 0 picks a free one)');
  return text.trim();
}

/** A value written as text: a flag argument or a CONFD_* variable (lists are comma-separated there). */
export function parseSettingText(spec: SettingSpec, text: string): SettingValue {
  switch (spec.kind) {
    case 'string':
      return text;
    case 'boolean':
      return parseBoolean(text);
    case 'list':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'seconds':
      return parseSeconds(text);
    case 'duration':
      return parseTimeout(text);
    case 'log-level':
      return parseLogLevel(text);
    case 'scheme':
      return parseScheme(text);
    case 'choice':
      return parseChoice(spec, text);
    case 'address':
      return parseAddress(text);
    case 'wait-window':
      try {
        return parseWaitWindow(text);
      } catch (err) {
        throw new InvalidValue(err instanceof DurationTooLongError ? err.reason : (err as Error).message);
      }
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  if (value !== null && typeof value === 'object') return 'a table';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** A value from confd.toml, where TOML already carries the type. */
export function coerceTomlValue(spec: SettingSpec, value: unknown): SettingValue {
  switch (spec.kind) {
    case 'boolean':
      if (typeof value !== 'boolean')
        throw new InvalidValue(`expected true or false, got ${describe(value)}`);
      return value;
    case 'list':
      // confd's `file` was a plain string in older releases, so a single string is taken as a one-item list.
      if (typeof value === 'string') return [value];
      if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
        throw new InvalidValue(`expected an array of strings, got ${describe(value)}`);
      }
      return value;
    case 'seconds':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        throw new InvalidValue(`expected a whole number of seconds, at least 1, got ${describe(value)}`);
      }
      return secondsInTimerRange(value, String(value));
    case 'duration':
      if (typeof value === 'number') return parseTimeout(String(value));
      if (typeof value !== 'string')
        throw new InvalidValue(`expected a duration such as "5s", got ${describe(value)}`);
      return parseTimeout(value);
    default:
      if (typeof value !== 'string') {
        throw new InvalidValue(`expected a string, got ${spec.secret ? typeof value : describe(value)}`);
      }
      return parseSettingText(spec, value);
  }
}

/** Stores a parsed value under the spec's settings key (the table guarantees kind and key agree). */
export function assignSetting(target: Partial<Settings>, spec: SettingSpec, value: SettingValue): void {
  (target as Record<string, unknown>)[spec.key] = value;
}
