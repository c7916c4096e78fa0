/**
 * "When" on the send form: now, or a wall-clock time in a chosen time zone, as the editor
 * typed it (datetime-local gives `YYYY-MM-DDTHH:MM`). PURE. Turning it into an instant is
 * the scheduling operation's job; here it is checked and restated.
 */
import { NewsletterError } from '../errors.ts';

export type When = { kind: 'now' } | { kind: 'at'; at: string; timeZone: string };

export const TIME_ZONES: readonly string[] = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC')];

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

export function parseWhen(input: { when?: string; at?: string; tz?: string }): When {
  if (input.when !== 'at') return { kind: 'now' };
  const match = LOCAL_TIME.exec(input.at ?? '');
  if (!match) throw new NewsletterError('INPUT_INVALID', 'choose a date and a time to schedule at', { field: 'at' });
  const [, y, mo, d, h, mi] = match.map(Number) as number[];
  const check = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!));
  if (check.getUTCMonth() !== mo! - 1 || check.getUTCDate() !== d! || h! > 23 || mi! > 59) {
    throw new NewsletterError('INPUT_INVALID', `${input.at} is not a date and time`, { field: 'at' });
  }
  const timeZone = input.tz ?? 'UTC';
  if (!TIME_ZONES.includes(timeZone)) throw new NewsletterError('INPUT_INVALID', `"${timeZone.slice(0, 64)}" is not a time zone`, { field: 'tz' });
  return { kind: 'at', at: input.at!, timeZone };
}

/** "now", or the time as typed with its zone: "Mon 7 Dec 2026, 09:00 (Asia/Shanghai)". */
export function describeWhen(when: When): string {
  if (when.kind === 'now') return 'now';
  const [date, time] = when.at.split('T') as [string, string];
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-GB', {
    timeZone: 'UTC',
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  });
  return `${day}, ${time.slice(0, 5)} (${when.timeZone})`;
}
