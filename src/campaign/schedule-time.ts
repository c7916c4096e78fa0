/**
 * When a scheduled campaign starts: an editor's wall time in a time zone, or an ISO 8601
 * time with its offset, read into one instant. PURE: the clock (`now`) is passed in, and
 * time zones come from Intl (IANA names), no table of our own.
 *
 * A wall time that does not exist (a DST gap: clocks jump forward) or that happens twice (an
 * overlap: clocks go back) is refused rather than guessed: a send to a whole list an hour off
 * cannot be taken back. An overlap is fine with an offset, which says which of the two it is.
 */
import { NewsletterError } from '../errors.ts';

export interface ScheduleTimeFields {
  /** How the caller's user names the time and the zone: `--at`/`--tz` on the CLI, `scheduledAt` in the API. */
  at: string;
  tz: string;
}

export interface ScheduleTimeInput {
  /** `2026-12-07 09:00`, `2026-12-07 09:00:30`, `2026-12-07T09:00`, or ISO 8601 with an offset (`…+08:00`, `…Z`). */
  text: string;
  /** The zone for a wall time; an offset in `text` must agree with it when `zoneGiven`. */
  zone: string;
  /** The user named the zone (`--tz`), rather than it being the default: a conflicting offset is then an error. */
  zoneGiven?: boolean;
  /** Refuse a time without an offset (the API, where there is no zone to read it in). */
  requireOffset?: boolean;
  now: Date;
  fields?: ScheduleTimeFields;
}

const WALL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:?\d{2})$/i;

const DAY_MS = 24 * 3600_000;

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws INPUT_INVALID naming the zone field when Intl does not know the zone. */
export function checkTimeZone(zone: string, field = '--tz'): string {
  try {
    return formatterFor(zone).resolvedOptions().timeZone;
  } catch {
    throw new NewsletterError('INPUT_INVALID', `unknown time zone "${zone.slice(0, 60)}": give an IANA name such as Asia/Shanghai, Europe/London or UTC`, {
      field,
    });
  }
}

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The wall clock in `zone` at instant `ms`. */
function wallAt(ms: number, zone: string): Wall {
  const parts = Object.fromEntries(
    formatterFor(zone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return { year: +parts.year!, month: +parts.month!, day: +parts.day!, hour: +parts.hour!, minute: +parts.minute!, second: +parts.second! };
}

/** The UTC fields of `ms`, as a wall clock. */
function utcWall(ms: number): Wall {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

const wallMs = (w: Wall) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);

/** The zone's offset from UTC at instant `ms`, in ms (east positive). */
export function offsetAt(ms: number, zone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallMs(wallAt(whole, zone)) - whole;
}

export function formatOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  const minutes = Math.abs(Math.round(offsetMs / 60_000));
  return `${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

const two = (n: number) => String(n).padStart(2, '0');
const wallText = (w: Wall, seconds = true) =>
  `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}${seconds || w.second ? `:${two(w.second)}` : ''}`;

/** `2026-12-07 09:00:00 Asia/Shanghai (+08:00)`: how an instant reads in a zone. */
export function formatInZone(at: Date, zone: string): string {
  return `${wallText(wallAt(at.getTime(), zone))} ${zone} (${formatOffset(offsetAt(at.getTime(), zone))})`;
}

function readWall(match: RegExpExecArray, text: string, field: string): Wall {
  const [year, month, day, hour, minute, second = 0] = match.slice(1, 7).map((v) => (v === undefined ? undefined : Number(v))) as number[];
  const wall = { year: year!, month: month!, day: day!, hour: hour!, minute: minute!, second };
  const roundTrip = new Date(wallMs(wall));
  const valid =
    hour! <= 23 && minute! <= 59 && second <= 59 && roundTrip.getUTCMonth() === month! - 1 && roundTrip.getUTCDate() === day && month! >= 1 && month! <= 12;
  if (!valid) throw new NewsletterError('INPUT_INVALID', `"${text}" is not a date and time of the calendar`, { field });
  return wall;
}

/** The instant where the offset changes from `before` to `after`, between lo and hi (a second's precision). */
function transitionBetween(lo: number, hi: number, zone: string): number {
  const before = offsetAt(lo, zone);
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (offsetAt(mid, zone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The instants whose wall clock in `zone` reads `wall`: none in a gap, two in an overlap. */
function instantsOf(wall: Wall, zone: string): number[] {
  const guess = wallMs(wall);
  const offsets = new Set([offsetAt(guess - DAY_MS, zone), offsetAt(guess, zone), offsetAt(guess + DAY_MS, zone)]);
  const found = [...offsets].map((offset) => guess - offset).filter((ms) => wallMs(wallAt(ms, zone)) === guess);
  return [...new Set(found)].sort((a, b) => a - b);
}

function resolveWall(wall: Wall, zone: string, text: string, fields: ScheduleTimeFields): number {
  const instants = instantsOf(wall, zone);
  if (instants.length === 1) return instants[0]!;
  const guess = wallMs(wall);
  if (instants.length === 0) {
    const change = transitionBetween(guess - DAY_MS, guess + DAY_MS, zone);
    const before = offsetAt(change - 1000, zone);
    const after = offsetAt(change, zone);
    throw new NewsletterError(
      'INPUT_INVALID',
      `${text} does not exist in ${zone}: the clocks jump from ${wallText(utcWall(change + before), false)} to ${wallText(utcWall(change + after), false)} (${formatOffset(before)} to ${formatOffset(after)}); choose a time outside the gap`,
      { field: fields.at },
    );
  }
  const [first, second] = instants.map((ms) => formatOffset(offsetAt(ms, zone)));
  throw new NewsletterError(
    'INPUT_INVALID',
    `${text} happens twice in ${zone} (the clocks go back): at ${first} and again at ${second}; say which with an offset, e.g. ${wallText(wall).replace(' ', 'T')}${first}`,
    { field: fields.at },
  );
}

function offsetMsOf(text: string): number {
  if (text.toUpperCase() === 'Z') return 0;
  const sign = text.startsWith('-') ? -1 : 1;
  const digits = text.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

/**
 * The instant `text` names, in the future of `now`. Throws INPUT_INVALID naming `fields.at`
 * (a malformed time, a DST gap or overlap, a time in the past) or `fields.tz` (an unknown
 * zone, an offset that is not the named zone's at that time).
 */
export function parseScheduleTime({ text, zone, zoneGiven = false, requireOffset = false, now, fields = { at: '--at', tz: '--tz' } }: ScheduleTimeInput): Date {
  const trimmed = text.trim();
  const zoneName = requireOffset ? 'UTC' : checkTimeZone(zone, fields.tz);
  let ms: number;
  const withOffset = WITH_OFFSET.exec(trimmed);
  if (withOffset) {
    const wall = readWall(withOffset, trimmed, fields.at);
    const offset = offsetMsOf(withOffset[8]!);
    if (Math.abs(offset) > 18 * 3600_000) throw new NewsletterError('INPUT_INVALID', `"${trimmed}" has an offset past ±18:00`, { field: fields.at });
    ms = wallMs(wall) + Number((withOffset[7] ?? '').padEnd(3, '0')) - offset;
    if (zoneGiven && offsetAt(ms, zoneName) !== offset) {
      throw new NewsletterError(
        'INPUT_INVALID',
        `${trimmed} has offset ${formatOffset(offset)} but ${zoneName} is at ${formatOffset(offsetAt(ms, zoneName))} then: leave out ${fields.tz}, or the offset`,
        { field: fields.tz },
      );
    }
  } else {
    const wall = WALL.exec(trimmed);
    if (!wall || requireOffset) {
      throw new NewsletterError(
        'INPUT_INVALID',
        requireOffset
          ? `"${trimmed.slice(0, 60)}" needs to be ISO 8601 with an offset, e.g. 2026-12-07T09:00:00+08:00 or 2026-12-07T01:00:00Z`
          : `"${trimmed.slice(0, 60)}" is not a time: write 2026-12-07 09:00, 2026-12-07 09:00:30 or 2026-12-07T09:00:00+08:00`,
        { field: fields.at },
      );
    }
    ms = resolveWall(readWall(wall, trimmed, fields.at), zoneName, trimmed, fields);
  }
  return checkFuture(new Date(ms), now, fields.at);
}

/** A start time has to be ahead of `now`; a time in the past would start at once, and that is `send` without a time. */
export function checkFuture(at: Date, now: Date, field: string): Date {
  if (at.getTime() <= now.getTime()) {
    throw new NewsletterError(
      'INPUT_INVALID',
      `${at.toISOString()} is in the past (it is ${now.toISOString()} now): give a time ahead, or send now without one`,
      {
        field,
      },
    );
  }
  return at;
}
