/**
 * Go's reference-time layouts ("2006-01-02 15:04:05"), so confd's `datetime.Format "..."` idiom keeps its
 * layouts. A port of time.Time.Format's token rules (nextStdChunk); JavaScript dates have millisecond
 * precision, so fractional digits past the third are zeros.
 */

/** Go's named layout constants, usable by name: `{{datetime "RFC3339"}}`. */
export const NAMED_LAYOUTS: Readonly<Record<string, string>> = {
  Layout: '01/02 03:04:05PM 06 -0700',
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  Kitchen: '3:04PM',
  Stamp: 'Jan _2 15:04:05',
  StampMilli: 'Jan _2 15:04:05.000',
  StampMicro: 'Jan _2 15:04:05.000000',
  StampNano: 'Jan _2 15:04:05.000000000',
  DateTime: '2006-01-02 15:04:05',
  DateOnly: '2006-01-02',
  TimeOnly: '15:04:05',
};

/** time.Time.String()'s layout (without the monotonic clock reading Go appends). */
export const DEFAULT_LAYOUT = '2006-01-02 15:04:05.999999999 -0700 MST';

export type TimeZoneChoice = 'local' | 'utc';

interface Fields {
  year: number;
  month: number; // 1-12
  day: number;
  weekday: number; // 0 = Sunday
  yearDay: number; // 1-366
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  offsetSeconds: number; // east of UTC
  zoneName: string; // "" when unknown: Go then prints a numeric zone
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

export function formatGoTime(date: Date, layout: string, zone: TimeZoneChoice): string {
  const f = fields(date, zone);
  let out = '';
  let i = 0;
  while (i < layout.length) {
    const token = tokenAt(layout, i);
    if (!token) {
      out += layout[i];
      i++;
      continue;
    }
    out += token.format(f);
    i += token.length;
  }
  return out;
}

function fields(date: Date, zone: TimeZoneChoice): Fields {
  const utc = zone === 'utc';
  const year = utc ? date.getUTCFullYear() : date.getFullYear();
  const month = (utc ? date.getUTCMonth() : date.getMonth()) + 1;
  const day = utc ? date.getUTCDate() : date.getDate();
  const offsetSeconds = utc ? 0 : -date.getTimezoneOffset() * 60;
  return {
    year,
    month,
    day,
    weekday: utc ? date.getUTCDay() : date.getDay(),
    yearDay: (Date.UTC(year, month - 1, day) - Date.UTC(year, 0, 1)) / 86_400_000 + 1,
    hour: utc ? date.getUTCHours() : date.getHours(),
    minute: utc ? date.getUTCMinutes() : date.getMinutes(),
    second: utc ? date.getUTCSeconds() : date.getSeconds(),
    nanos: (utc ? date.getUTCMilliseconds() : date.getMilliseconds()) * 1_000_000,
    offsetSeconds,
    zoneName: utc ? 'UTC' : localZoneName(date),
  };
}

/** The local zone's abbreviation ("CET", "PDT"); "" when the platform only knows an offset ("GMT+2"). */
function localZoneName(date: Date): string {
  const name = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
    .formatToParts(date)
    .find((part) => part.type === 'timeZoneName')?.value;
  return !name || /^GMT[+-]/.test(name) ? '' : name;
}

interface Token {
  length: number;
  format(f: Fields): string;
}

function tok(length: number, format: (f: Fields) => string): Token {
  return { length, format };
}

const num = (n: number, width = 0): string => String(n).padStart(width, '0');
const hour12 = (f: Fields): number => f.hour % 12 || 12;

/** Go's nextStdChunk: which layout element, if any, starts at `i`. */
function tokenAt(layout: string, i: number): Token | undefined {
  const rest = layout.slice(i);
  const at = (k: number): string => layout[i + k] ?? '';
  switch (layout[i]) {
    case 'J':
      if (rest.startsWith('January')) return tok(7, (f) => MONTHS[f.month - 1] as string);
      if (rest.startsWith('Jan') && !startsLower(at(3)))
        return tok(3, (f) => (MONTHS[f.month - 1] as string).slice(0, 3));
      return undefined;
    case 'M':
      if (rest.startsWith('Monday')) return tok(6, (f) => DAYS[f.weekday] as string);
      if (rest.startsWith('Mon') && !startsLower(at(3)))
        return tok(3, (f) => (DAYS[f.weekday] as string).slice(0, 3));
      if (rest.startsWith('MST')) return tok(3, (f) => f.zoneName || numericZone(f, 'hhmm'));
      return undefined;
    case '0':
      if (at(1) >= '1' && at(1) <= '6')
        return tok(2, ZERO_PADDED[Number(at(1)) - 1] as (f: Fields) => string);
      if (at(1) === '0' && at(2) === '2') return tok(3, (f) => num(f.yearDay, 3));
      return undefined;
    case '1':
      if (at(1) === '5') return tok(2, (f) => num(f.hour, 2));
      return tok(1, (f) => num(f.month));
    case '2':
      if (rest.startsWith('2006')) return tok(4, (f) => num(f.year, 4));
      return tok(1, (f) => num(f.day));
    case '_':
      // "_2006" is a literal underscore followed by the year.
      if (at(1) === '2' && !rest.startsWith('_2006')) return tok(2, (f) => num(f.day).padStart(2, ' '));
      if (at(1) === '_' && at(2) === '2') return tok(3, (f) => num(f.yearDay).padStart(3, ' '));
      return undefined;
    case '3':
      return tok(1, (f) => num(hour12(f)));
    case '4':
      return tok(1, (f) => num(f.minute));
    case '5':
      return tok(1, (f) => num(f.second));
    case 'P':
      return at(1) === 'M' ? tok(2, (f) => (f.hour >= 12 ? 'PM' : 'AM')) : undefined;
    case 'p':
      return at(1) === 'm' ? tok(2, (f) => (f.hour >= 12 ? 'pm' : 'am')) : undefined;
    case '-':
    case 'Z':
      return zoneToken(rest);
    case '.':
    case ',':
      return fractionToken(layout, i);
    default:
      return undefined;
  }
}

const ZERO_PADDED: ReadonlyArray<(f: Fields) => string> = [
  (f) => num(f.month, 2),
  (f) => num(f.day, 2),
  (f) => num(hour12(f), 2),
  (f) => num(f.minute, 2),
  (f) => num(f.second, 2),
  (f) => num(f.year % 100, 2),
];

function startsLower(ch: string): boolean {
  return ch >= 'a' && ch <= 'z';
}

type ZoneStyle = 'hh' | 'hhmm' | 'hh:mm' | 'hhmmss' | 'hh:mm:ss';

const ZONE_FORMS: ReadonlyArray<[string, ZoneStyle]> = [
  ['070000', 'hhmmss'],
  ['07:00:00', 'hh:mm:ss'],
  ['0700', 'hhmm'],
  ['07:00', 'hh:mm'],
  ['07', 'hh'],
];

/** "-0700" style always prints an offset; the ISO 8601 "Z0700" style prints "Z" for UTC. */
function zoneToken(rest: string): Token | undefined {
  const iso = rest.startsWith('Z');
  for (const [form, style] of ZONE_FORMS) {
    if (rest.startsWith(form, 1)) {
      return tok(form.length + 1, (f) => (iso && f.offsetSeconds === 0 ? 'Z' : numericZone(f, style)));
    }
  }
  return undefined;
}

function numericZone(f: Fields, style: ZoneStyle): string {
  const abs = Math.abs(f.offsetSeconds);
  const sign = f.offsetSeconds < 0 ? '-' : '+';
  const hh = num(Math.floor(abs / 3600), 2);
  const mm = num(Math.floor(abs / 60) % 60, 2);
  const ss = num(abs % 60, 2);
  switch (style) {
    case 'hh':
      return sign + hh;
    case 'hhmm':
      return sign + hh + mm;
    case 'hh:mm':
      return `${sign}${hh}:${mm}`;
    case 'hhmmss':
      return sign + hh + mm + ss;
    case 'hh:mm:ss':
      return `${sign}${hh}:${mm}:${ss}`;
  }
}

/** ".000" prints exactly that many digits; ".999" drops trailing zeros (and the point when all are zero). */
function fractionToken(layout: string, i: number): Token | undefined {
  const digit = layout[i + 1];
  if (digit !== '0' && digit !== '9') return undefined;
  let j = i + 1;
  while (layout[j] === digit) j++;
  if (/[0-9]/.test(layout[j] ?? '')) return undefined;
  const separator = layout[i] as string;
  const count = j - i - 1;
  return tok(j - i, (f) => {
    const digits = num(f.nanos, 9).slice(0, count);
    if (digit === '0') return separator + digits;
    const trimmed = digits.replace(/0+$/, '');
    return trimmed ? separator + trimmed : '';
  });
}
