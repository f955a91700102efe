import { expect } from 'chai';
import { DEFAULT_LAYOUT, formatGoTime, NAMED_LAYOUTS } from '../../../src/template/go-time.js';

describe('formatGoTime (Go reference layouts)', () => {
  // Tuesday 2024-03-05 07:08:09.120 UTC, day 65 of a leap year.
  const t = new Date(Date.UTC(2024, 2, 5, 7, 8, 9, 120));
  const cases: [layout: string, expected: string][] = [
    ['2006-01-02 15:04:05', '2024-03-05 07:08:09'],
    [NAMED_LAYOUTS.RFC3339 as string, '2024-03-05T07:08:09Z'],
    [NAMED_LAYOUTS.RFC1123 as string, 'Tue, 05 Mar 2024 07:08:09 UTC'],
    [NAMED_LAYOUTS.ANSIC as string, 'Tue Mar  5 07:08:09 2024'],
    [NAMED_LAYOUTS.Kitchen as string, '7:08AM'],
    [NAMED_LAYOUTS.RFC822Z as string, '05 Mar 24 07:08 +0000'],
    ['January Monday Jan Mon', 'March Tuesday Mar Tue'],
    ['1/2/06 3:4:5 pm PM', '3/5/24 7:8:9 am AM'],
    ['002 __2 _2', '065  65  5'],
    ['.000 .999 ,000000 .9', '.120 .12 ,120000 .1'],
    ['15:04:05.000000000', '07:08:09.120000000'],
    ['-07:00 -0700 -07 Z07:00 Z0700', '+00:00 +0000 +00 Z Z'],
    ['_2006', '_2024'],
    ['Janet Monaco', 'Janet Monaco'],
    [DEFAULT_LAYOUT, '2024-03-05 07:08:09.12 +0000 UTC'],
  ];

  for (const [layout, expected] of cases) {
    it(`${JSON.stringify(layout)} -> ${JSON.stringify(expected)}`, () => {
      expect(formatGoTime(t, layout, 'utc')).to.equal(expected);
    });
  }

  it('drops an all-zero .999 fraction together with its point', () => {
    expect(formatGoTime(new Date(Date.UTC(2024, 0, 1)), '05.999|', 'utc')).to.equal('00|');
  });

  it('prints PM and 12-hour clocks in the afternoon and at midnight', () => {
    expect(formatGoTime(new Date(Date.UTC(2024, 0, 1, 15, 0)), '3PM 03pm', 'utc')).to.equal('3PM 03pm');
    expect(formatGoTime(new Date(Date.UTC(2024, 0, 1, 0, 0)), '3PM', 'utc')).to.equal('12AM');
  });

  it('uses the local offset in the local zone', () => {
    const offsetMinutes = -t.getTimezoneOffset();
    const sign = offsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(offsetMinutes);
    const expected = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    expect(formatGoTime(t, '-07:00', 'local')).to.equal(expected);
  });
});
