import { DEFAULT_LAYOUT, formatGoTime } from '../go-time.js';
import type { GoFunc } from './func.js';
import type { GoType } from './types.js';
import { BOOL, DURATION, INT, INT64, MONTH, STRING, TIME, WEEKDAY } from './types.js';
import { Value } from './values.js';

/**
 * The methods templates may call: an explicit allow-list per Go type. Values carry only data, so no
 * JavaScript function or prototype property is ever reachable from a template; a name that is not
 * listed here is looked up as a field (and fails as Go fails for a missing one).
 */

/** A time.Time: milliseconds since the epoch, the zone it is shown in, the monotonic reading if any. */
export interface TimeData {
  readonly ms: number;
  readonly utc: boolean;
  /** Seconds since the process started (Go's monotonic clock), printed by String() as " m=+0.0012". */
  readonly mono?: number;
}

export function timeValue(data: TimeData): Value {
  return new Value(TIME, data);
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function t(value: Value): TimeData {
  return value.v as TimeData;
}

function date(value: Value): Date {
  return new Date(t(value).ms);
}

function part(value: Value, utc: () => number, local: () => number): number {
  return t(value).utc ? utc() : local();
}

function timeString(value: Value): string {
  const data = t(value);
  const text = formatGoTime(new Date(data.ms), DEFAULT_LAYOUT, data.utc ? 'utc' : 'local');
  if (data.mono === undefined) return text;
  const sign = data.mono < 0 ? '-' : '+';
  const abs = Math.abs(data.mono);
  return `${text} m=${sign}${Math.floor(abs)}.${String(Math.round((abs % 1) * 1e9)).padStart(9, '0')}`;
}

type Method = (recv: Value) => GoFunc;

function method(params: GoType[], result: GoType, call: (recv: Value, args: Value[]) => Value): Method {
  return (recv) => ({ params, result, call: (args) => call(recv, args) });
}

const int = (n: number): Value => new Value(INT, n);
const int64 = (n: number): Value => new Value(INT64, n);

function field(get: (d: Date) => number, getUTC: (d: Date) => number): Method {
  return method([], INT, (recv) => {
    const d = date(recv);
    return int(
      part(
        recv,
        () => getUTC(d),
        () => get(d),
      ),
    );
  });
}

function withTime(recv: Value, ms: number, utc = t(recv).utc): Value {
  // Go strips the monotonic reading from times derived by zone changes or date arithmetic.
  return timeValue({ ms, utc });
}

const TIME_METHODS: ReadonlyMap<string, Method> = new Map<string, Method>([
  [
    'Format',
    method(
      [STRING],
      STRING,
      (recv, [layout]) =>
        new Value(STRING, formatGoTime(date(recv), layout?.v as string, t(recv).utc ? 'utc' : 'local')),
    ),
  ],
  ['String', method([], STRING, (recv) => new Value(STRING, timeString(recv)))],
  ['Unix', method([], INT64, (recv) => int64(Math.floor(t(recv).ms / 1000)))],
  ['UnixMilli', method([], INT64, (recv) => int64(t(recv).ms))],
  ['UnixMicro', method([], INT64, (recv) => int64(t(recv).ms * 1000))],
  ['UnixNano', method([], INT64, (recv) => int64(t(recv).ms * 1_000_000))],
  ['UTC', method([], TIME, (recv) => withTime(recv, t(recv).ms, true))],
  ['Local', method([], TIME, (recv) => withTime(recv, t(recv).ms, false))],
  [
    'Year',
    field(
      (d) => d.getFullYear(),
      (d) => d.getUTCFullYear(),
    ),
  ],
  [
    'Day',
    field(
      (d) => d.getDate(),
      (d) => d.getUTCDate(),
    ),
  ],
  [
    'Hour',
    field(
      (d) => d.getHours(),
      (d) => d.getUTCHours(),
    ),
  ],
  [
    'Minute',
    field(
      (d) => d.getMinutes(),
      (d) => d.getUTCMinutes(),
    ),
  ],
  [
    'Second',
    field(
      (d) => d.getSeconds(),
      (d) => d.getUTCSeconds(),
    ),
  ],
  [
    'Nanosecond',
    field(
      (d) => d.getMilliseconds() * 1e6,
      (d) => d.getUTCMilliseconds() * 1e6,
    ),
  ],
  [
    'Month',
    method([], MONTH, (recv) => {
      const d = date(recv);
      return new Value(
        MONTH,
        part(
          recv,
          () => d.getUTCMonth(),
          () => d.getMonth(),
        ) + 1,
      );
    }),
  ],
  [
    'Weekday',
    method([], WEEKDAY, (recv) => {
      const d = date(recv);
      return new Value(
        WEEKDAY,
        part(
          recv,
          () => d.getUTCDay(),
          () => d.getDay(),
        ),
      );
    }),
  ],
  [
    'YearDay',
    method([], INT, (recv) => {
      const d = date(recv);
      const utc = t(recv).utc;
      const [y, m, day] = utc
        ? [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()]
        : [d.getFullYear(), d.getMonth(), d.getDate()];
      return int((Date.UTC(y, m, day) - Date.UTC(y, 0, 1)) / 86_400_000 + 1);
    }),
  ],
  ['IsZero', method([], BOOL, () => new Value(BOOL, false))],
  [
    'AddDate',
    method([INT, INT, INT], TIME, (recv, [years, months, days]) => {
      const d = date(recv);
      const [y, mo, dd] = [years?.v as number, months?.v as number, days?.v as number];
      if (t(recv).utc) {
        d.setUTCFullYear(d.getUTCFullYear() + y, d.getUTCMonth() + mo, d.getUTCDate() + dd);
      } else {
        d.setFullYear(d.getFullYear() + y, d.getMonth() + mo, d.getDate() + dd);
      }
      return withTime(recv, d.getTime());
    }),
  ],
  [
    'Add',
    method([DURATION], TIME, (recv, [duration]) =>
      withTime(recv, t(recv).ms + Math.trunc((duration?.v as number) / 1e6)),
    ),
  ],
]);

const MONTH_METHODS: ReadonlyMap<string, Method> = new Map([
  ['String', method([], STRING, (recv) => new Value(STRING, monthName(recv.v as number)))],
]);

const WEEKDAY_METHODS: ReadonlyMap<string, Method> = new Map([
  ['String', method([], STRING, (recv) => new Value(STRING, dayName(recv.v as number)))],
]);

function monthName(m: number): string {
  return MONTHS[m - 1] ?? `%!Month(${m})`;
}

function dayName(d: number): string {
  return DAYS[d] ?? `%!Weekday(${d})`;
}

function methodTable(type: GoType): ReadonlyMap<string, Method> | undefined {
  if (type === TIME) return TIME_METHODS;
  if (type === MONTH) return MONTH_METHODS;
  if (type === WEEKDAY) return WEEKDAY_METHODS;
  return undefined;
}

/** The method `name` of `value`, bound to it; undefined when the type has no such (allowed) method. */
export function methodOf(value: Value, name: string): GoFunc | undefined {
  const table = methodTable(value.type);
  const m = table?.get(name);
  return m?.(value);
}

/** fmt's Stringer check: the String method's result, for types that have one. */
export function stringerOf(value: Value): (() => string) | undefined {
  const m = methodOf(value, 'String');
  if (!m) return undefined;
  return () => m.call([]).v as string;
}
