import { describe, expect, it } from 'vitest';
import { calendarDateOf } from '../../src/render/post-date.ts';

describe('calendarDateOf reads the dates Pelican and Hugo read', () => {
  it.each([
    ['2020-12-02', '2020-12-02'],
    ['2020-12-2', '2020-12-02'],
    ['2020-1-9', '2020-01-09'],
    ['2020/12/02', '2020-12-02'],
    ['2020/1/2', '2020-01-02'],
    ['2020.12.02', '2020-12-02'],
    ['2020-12-02 10:20', '2020-12-02'],
    ['2020-12-2 9:05', '2020-12-02'],
    ['2020-12-02T10:20:00+08:00', '2020-12-02'],
    ['2020-12-02t23:59:59Z', '2020-12-02'],
    ['2020-12-02 10:20:00 -0700', '2020-12-02'],
    ['  2014-06-10 22:46  ', '2014-06-10'],
    ['2 Dec 2020', '2020-12-02'],
    ['02 December 2020', '2020-12-02'],
    ['2nd Dec 2020', '2020-12-02'],
    ['Dec 2, 2020', '2020-12-02'],
    ['December 2 2020', '2020-12-02'],
    ['Sept 9, 2021', '2021-09-09'],
    ['Wed, 02 Dec 2020 10:20:00 +0000', '2020-12-02'],
    ['Wednesday, December 2, 2020', '2020-12-02'],
    ['2024-02-29', '2024-02-29'],
  ])('%s is %s', (written, iso) => {
    expect(calendarDateOf(written)).toBe(iso);
  });

  it.each([
    ['2020-02-30', 'a day February never has'],
    ['2023-02-29', 'a leap day in a common year'],
    ['2024-13-01', 'month 13'],
    ['2024-00-10', 'month 0'],
    ['2024-12-32', 'day 32'],
    ['2020-12-02 garbage', 'words after the date'],
    ['12/02/2020', 'day and month in an order readers disagree on'],
    ['next friday', 'words'],
    ['2020-12', 'no day'],
    ['Smarch 2, 2020', 'no such month'],
    ['2020-12/02', 'mixed separators'],
    ['', 'nothing'],
  ])('refuses %s (%s)', (written) => {
    expect(calendarDateOf(written)).toBeUndefined();
  });
});
