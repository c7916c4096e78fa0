/**
 * A post's `date` as its author's site generator reads it -> YYYY-MM-DD, the calendar day
 * as written (no time zone shift). Pelican reads dates with python-dateutil and Hugo with
 * Go's YAML timestamps and its own list of layouts; between them, editors write:
 *
 * - `2020-12-02`, `2020-12-2`, `2020/12/02`, `2020.12.02`, with or without a time after a
 *   space or a `T` (`2020-12-02 10:20`, `2020-12-02T10:20:00+08:00`);
 * - `2 Dec 2020`, `02 December 2020`, `Dec 2, 2020`, `December 2 2020`, with or without a
 *   weekday and a time (RFC 1123 and 822: `Wed, 02 Dec 2020 10:20:00 +0000`).
 *
 * Not accepted: day and month both numeric with the year last (`12/02/2020`), which means
 * 12 February to one reader and 2 December to another.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** 1-12 for an English month name or its abbreviation (`Sept` too), else undefined. */
function monthNumber(name: string): number | undefined {
  const lower = name.toLowerCase().replace(/\.$/, '');
  const index = MONTHS.indexOf(lower.slice(0, 3));
  if (index === -1) return undefined;
  const full = new Intl.DateTimeFormat('en', { month: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2000, index, 1))).toLowerCase();
  return full.startsWith(lower) || lower === 'sept' ? index + 1 : undefined;
}

// A time (and zone) may follow the date; what it says does not change the calendar day.
const TIME = String.raw`(?:(?:[Tt]|\s+|\s*,\s*)\d{1,2}:\d{2}.*)?`;
const WEEKDAY = String.raw`(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?`;
const NUMERIC = new RegExp(String.raw`^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})${TIME}$`);
const DAY_MONTH_YEAR = new RegExp(String.raw`^${WEEKDAY}(\d{1,2})(?:st|nd|rd|th)?[\s-]+([A-Za-z]+\.?)[\s-]+(\d{4})${TIME}$`, 'i');
const MONTH_DAY_YEAR = new RegExp(String.raw`^${WEEKDAY}([A-Za-z]+\.?)\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})${TIME}$`, 'i');

function isoIfReal(year: number, month: number | undefined, day: number): string | undefined {
  if (month === undefined) return undefined;
  const probe = new Date(Date.UTC(year, month - 1, day));
  probe.setUTCFullYear(year);
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** YYYY-MM-DD for a date written in one of the forms above that exists, else undefined. */
export function calendarDateOf(written: string): string | undefined {
  const text = written.trim();
  let match = NUMERIC.exec(text);
  if (match) return isoIfReal(Number(match[1]), Number(match[3]), Number(match[4]));
  match = DAY_MONTH_YEAR.exec(text);
  if (match) return isoIfReal(Number(match[3]), monthNumber(match[2]!), Number(match[1]));
  match = MONTH_DAY_YEAR.exec(text);
  if (match) return isoIfReal(Number(match[3]), monthNumber(match[1]!), Number(match[2]));
  return undefined;
}
