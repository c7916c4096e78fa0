import { describe, expect, it } from 'vitest';
import { formatInZone, parseScheduleTime } from '../../src/campaign/schedule-time.ts';
import { NewsletterError } from '../../src/errors.ts';

const now = new Date('2026-01-15T12:00:00Z');
const parse = (text: string, zone: string, options: { zoneGiven?: boolean; requireOffset?: boolean } = {}) =>
  parseScheduleTime({ text, zone, now, ...options }).toISOString();

function refusal(run: () => unknown): NewsletterError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(NewsletterError);
    return error as NewsletterError;
  }
  throw new Error('expected a refusal');
}

describe('parseScheduleTime', () => {
  it('reads a wall time in the zone it is given', () => {
    expect(parse('2026-12-07 09:00', 'Asia/Shanghai')).toBe('2026-12-07T01:00:00.000Z');
    expect(parse('2026-12-07 09:00', 'America/New_York')).toBe('2026-12-07T14:00:00.000Z');
    expect(parse('2026-07-07 09:00', 'America/New_York')).toBe('2026-07-07T13:00:00.000Z');
    expect(parse('2026-12-07 09:00', 'Europe/London')).toBe('2026-12-07T09:00:00.000Z');
    expect(parse('2026-07-07 09:00', 'Europe/London')).toBe('2026-07-07T08:00:00.000Z');
    expect(parse('2026-12-07 09:00', 'UTC')).toBe('2026-12-07T09:00:00.000Z');
  });

  it('takes seconds and a T between date and time', () => {
    expect(parse('2026-12-07 09:00:30', 'Asia/Shanghai')).toBe('2026-12-07T01:00:30.000Z');
    expect(parse('2026-12-07T09:00:30', 'Asia/Shanghai')).toBe('2026-12-07T01:00:30.000Z');
  });

  it('takes ISO 8601 with an offset or Z whatever the default zone, and refuses an offset that contradicts a zone named by the user', () => {
    expect(parse('2026-12-07T09:00:00+08:00', 'America/New_York')).toBe('2026-12-07T01:00:00.000Z');
    expect(parse('2026-12-07T01:00Z', 'Asia/Shanghai')).toBe('2026-12-07T01:00:00.000Z');
    expect(parse('2026-12-07T09:00:00+08:00', 'Asia/Shanghai', { zoneGiven: true })).toBe('2026-12-07T01:00:00.000Z');
    const conflict = refusal(() => parse('2026-12-07T09:00:00+01:00', 'Asia/Shanghai', { zoneGiven: true }));
    expect(conflict.code).toBe('INPUT_INVALID');
    expect(conflict.location.field).toBe('--tz');
  });

  it('refuses a wall time in a DST gap and names the gap', () => {
    const gap = refusal(() => parse('2026-03-08 02:30', 'America/New_York'));
    expect(gap.location.field).toBe('--at');
    expect(gap.message).toContain('does not exist in America/New_York');
    expect(gap.message).toContain('from 2026-03-08 02:00 to 2026-03-08 03:00');
    const london = refusal(() => parse('2026-03-29 01:15', 'Europe/London'));
    expect(london.message).toContain('from 2026-03-29 01:00 to 2026-03-29 02:00');
    // Just outside the gap is fine.
    expect(parse('2026-03-08 01:59:59', 'America/New_York')).toBe('2026-03-08T06:59:59.000Z');
    expect(parse('2026-03-08 03:00', 'America/New_York')).toBe('2026-03-08T07:00:00.000Z');
  });

  it('refuses a wall time that happens twice (DST overlap) as ambiguous, and takes it with an offset', () => {
    const overlap = refusal(() => parse('2026-11-01 01:30', 'America/New_York'));
    expect(overlap.location.field).toBe('--at');
    expect(overlap.message).toMatch(/happens twice in America\/New_York.*-04:00.*-05:00/);
    expect(refusal(() => parse('2026-10-25 01:30', 'Europe/London')).message).toMatch(/happens twice/);
    expect(parse('2026-11-01T01:30-04:00', 'America/New_York', { zoneGiven: true })).toBe('2026-11-01T05:30:00.000Z');
    expect(parse('2026-11-01T01:30-05:00', 'America/New_York', { zoneGiven: true })).toBe('2026-11-01T06:30:00.000Z');
  });

  it('refuses a time in the past, or now, against the clock it is given', () => {
    const past = refusal(() => parse('2026-01-15 11:59', 'UTC'));
    expect(past.location.field).toBe('--at');
    expect(past.message).toMatch(/in the past/);
    expect(() => parse('2026-01-15T12:00:00Z', 'UTC')).toThrow(/in the past/);
    expect(parse('2026-01-15T12:00:01Z', 'UTC')).toBe('2026-01-15T12:00:01.000Z');
  });

  it('refuses an unknown zone naming --tz, and text that is no time or no calendar date naming --at', () => {
    const zone = refusal(() => parse('2026-12-07 09:00', 'Mars/Olympus_Mons'));
    expect(zone.location.field).toBe('--tz');
    expect(zone.message).toMatch(/unknown time zone/);
    for (const text of ['tomorrow 9am', '2026-02-30 09:00', '2026-12-07 24:00', '2026-13-01 09:00', '2026-12-07']) {
      expect(refusal(() => parse(text, 'UTC')).location.field).toBe('--at');
    }
  });

  it("with requireOffset (the API) refuses a bare wall time, naming the caller's field", () => {
    const bare = refusal(() =>
      parseScheduleTime({ text: '2026-12-07 09:00', zone: 'UTC', now, requireOffset: true, fields: { at: 'scheduledAt', tz: 'scheduledAt' } }),
    );
    expect(bare.location.field).toBe('scheduledAt');
    expect(bare.message).toMatch(/offset/);
  });

  it('formats an instant in a zone with its offset', () => {
    expect(formatInZone(new Date('2026-12-07T01:00:00Z'), 'Asia/Shanghai')).toBe('2026-12-07 09:00:00 Asia/Shanghai (+08:00)');
    expect(formatInZone(new Date('2026-11-01T06:30:00Z'), 'America/New_York')).toBe('2026-11-01 01:30:00 America/New_York (-05:00)');
  });
});
