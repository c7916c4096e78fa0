/** The console's pure pieces: the send form's "when", a campaign's view (state words, progress, speed, time left), masked addresses. */
import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../src/campaign/campaign.ts';
import { emptyReturnedCounts } from '../../src/campaign/returned-mail.ts';
import { campaignView, formatDuration } from '../../src/console/campaign-view.ts';
import { maskEmail } from '../../src/console/console-document.ts';
import { describeWhen, parseWhen } from '../../src/console/send-when.ts';
import { isNewsletterError } from '../../src/errors.ts';
import { importReportLines } from '../../src/operations/subscriber-operations.ts';

function campaign(overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: 'post--weekly',
    slug: 'post',
    subject: 'Hello',
    list: 'weekly',
    state: 'running',
    createdAt: '2026-12-05T10:00:00.000Z',
    startedAt: '2026-12-05T10:00:00.000Z',
    finishedAt: undefined,
    scheduledAt: undefined,
    endReason: undefined,
    total: 1000,
    accepted: 380,
    failed: 10,
    skipped: 10,
    deferred: 4,
    batches: 10,
    resendRounds: 0,
    returned: { ...emptyReturnedCounts(), hard: 2, soft: 1, complained: 1 },
    ...overrides,
  };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isNewsletterError(error) ? `${error.code} ${error.location.field}` : 'not ours';
  }
  return undefined;
}

describe('the send form’s "when"', () => {
  it('is now unless a time is chosen, and restates a time with its zone as typed', () => {
    expect(parseWhen({})).toEqual({ kind: 'now' });
    expect(describeWhen(parseWhen({ when: 'now', at: '2026-12-07T09:00' }))).toBe('now');
    const at = parseWhen({ when: 'at', at: '2026-12-07T09:00', tz: 'Asia/Shanghai' });
    expect(at).toEqual({ kind: 'at', at: '2026-12-07T09:00', timeZone: 'Asia/Shanghai' });
    expect(describeWhen(at)).toBe('Mon, 7 Dec 2026, 09:00 (Asia/Shanghai)');
  });

  it('refuses a missing or impossible time and an unknown zone, naming the field', () => {
    expect(codeOf(() => parseWhen({ when: 'at', tz: 'UTC' }))).toBe('INPUT_INVALID at');
    expect(codeOf(() => parseWhen({ when: 'at', at: '2026-02-30T09:00', tz: 'UTC' }))).toBe('INPUT_INVALID at');
    expect(codeOf(() => parseWhen({ when: 'at', at: '2026-12-07T24:00', tz: 'UTC' }))).toBe('INPUT_INVALID at');
    expect(codeOf(() => parseWhen({ when: 'at', at: '2026-12-07T09:00', tz: 'Mars/Olympus' }))).toBe('INPUT_INVALID tz');
  });
});

describe('a campaign as the console shows it', () => {
  it('counts progress, speed and time left from the start and the settled deliveries', () => {
    const view = campaignView(campaign(), new Date('2026-12-05T10:00:40.000Z'));
    expect(view).toMatchObject({ state: 'sending', active: true, settled: 400, percent: 40, retrying: 4, bounced: 3, complained: 1, rate: '10.0' });
    // 600 left at 10 per second.
    expect(view.eta).toBe('1 min 0 s');
  });

  it('says nothing about speed before the start, and no time left once finished', () => {
    expect(campaignView(campaign({ state: 'enqueuing', startedAt: undefined, accepted: 0, failed: 0, skipped: 0 }), new Date())).toMatchObject({
      state: 'sending',
      rate: '–',
      eta: '–',
    });
    const done = campaignView(campaign({ state: 'completed', accepted: 980, finishedAt: '2026-12-05T10:01:40.000Z' }), new Date('2026-12-05T11:00:00.000Z'));
    expect(done).toMatchObject({ state: 'completed', active: false, percent: 100, rate: '10.0', eta: '–', finishedAt: '2026-12-05 10:01:40 UTC' });
    expect(campaignView(campaign({ state: 'paused' }), new Date()).state).toBe('paused');
    expect(campaignView(campaign({ state: 'completed', total: 0, accepted: 0, failed: 0, skipped: 0 }), new Date()).percent).toBe(100);
  });

  it('writes durations for people', () => {
    expect([formatDuration(4.4), formatDuration(125), formatDuration(7260), formatDuration(Number.NaN)]).toEqual(['4 s', '2 min 5 s', '2 h 1 min', '–']);
  });
});

describe('the console’s small words', () => {
  it('masks an address to its first letter and domain', () => {
    expect(maskEmail('alice@example.com')).toBe('a•••@example.com');
    expect(maskEmail('broken')).toBe('•••');
  });

  it('reports an import as the CLI does', () => {
    const lines = importReportLines(
      { imported: 2, updated: 1, unchanged: 0, rejected: [{ line: 3, reason: 'bad address' }], rejectedTotal: 4, rejectedByKind: { 'email-invalid': 4 } },
      'people.csv',
    );
    expect(lines).toEqual({
      summary: 'imported 2, updated 1, unchanged 0, rejected 4 (email-invalid 4)',
      rejected: ['people.csv:3: bad address'],
      unlisted: 'people.csv: 3 more rejected rows are not listed (the first 1 are)',
    });
  });
});
