import { describe, expect, it } from 'vitest';
import { campaignRef, returnPathFor, TEST_REF } from '../../src/delivery/return-path.ts';
import type { InboundVerdict, RecipientVerdict } from '../../src/inbound/classify-inbound-message.ts';
import { findReturnPath, recipientFor } from '../../src/inbound/match-candidates.ts';
import { returnedEffect } from '../../src/inbound/returned-effect.ts';
import { judgeSoftBounces } from '../../src/subscribers/soft-bounce-rule.ts';

const SECRETS = { current: 'current-secret-for-these-tests-0123456789', previous: 'previous-secret-for-these-tests-012345678' };
const DOMAIN = 'bounces.example.org';

describe('the return path among the candidates', () => {
  const mine = returnPathFor(SECRETS.current, DOMAIN, campaignRef('issue-1--weekly'), 'AbCdEfGhIjKlMnOp');
  const older = returnPathFor(SECRETS.previous, DOMAIN, TEST_REF, 'ZyXwVuTsRqPoNmLk');
  const forged = mine.replace(/-([a-z2-7]{10})@/, (_, sig: string) => `-${sig.slice(0, -1)}${sig.endsWith('a') ? 'b' : 'a'}@`);

  it('is the first with our signature (current or previous secret); addresses of other domains are not candidates', () => {
    expect(findReturnPath(['postmaster@' + DOMAIN, 'x@other.example', older, mine], SECRETS, DOMAIN)).toEqual({
      found: 'signed',
      ref: TEST_REF,
      subscriberId: 'ZyXwVuTsRqPoNmLk',
    });
  });

  it('is forged, whatever else the message carries, when one has our form and not our signature', () => {
    expect(findReturnPath([mine, forged], SECRETS, DOMAIN)).toEqual({ found: 'forged', address: forged });
  });

  it('is never read without a bounce domain', () => {
    expect(findReturnPath([mine], SECRETS, undefined)).toEqual({ found: 'none' });
  });
});

const bounce = (address: string, kind: 'hard' | 'soft', more: Partial<RecipientVerdict> = {}): RecipientVerdict => ({
  address,
  kind,
  status: kind === 'hard' ? '5.1.1' : '5.2.2',
  reason: kind === 'hard' ? 'user-unknown' : 'mailbox-full',
  aboutSender: false,
  diagnostic: null,
  ...more,
});
const verdict = (kind: InboundVerdict['kind'], recipients: RecipientVerdict[], reason: InboundVerdict['reason'] = null): InboundVerdict => ({
  kind,
  recipients,
  original: null,
  deliveredTo: [],
  reason,
});

describe('what a bounce says about the subscriber it was matched to', () => {
  it('is what it says about their address, else about its only recipient', () => {
    const ann = bounce('ann@example.org', 'soft');
    expect(recipientFor(verdict('hard', [bounce('x@example.org', 'hard'), ann]), 'Ann@example.org')).toBe(ann);
    expect(recipientFor(verdict('hard', [bounce('forward@example.net', 'hard')]), 'ann@example.org')).toMatchObject({ kind: 'hard' });
  });

  it('is the mildest when it names several others (a hard bounce is the costly mistake)', () => {
    expect(recipientFor(verdict('hard', [bounce('a@example.net', 'hard'), bounce('b@example.net', 'soft')]), 'ann@example.org')).toMatchObject({
      kind: 'soft',
    });
  });

  it('is the notice’s own verdict when it names nobody, about us when its reason is', () => {
    expect(recipientFor(verdict('soft', [], 'blocked'), 'ann@example.org')).toMatchObject({ kind: 'soft', reason: 'blocked', aboutSender: true, status: null });
    expect(recipientFor(verdict('complaint', []), 'ann@example.org')).toBeUndefined();
  });
});

describe('what a matched message does', () => {
  const source = 'campaign issue-1--weekly';
  it('hard suppresses at once; soft counts; delayed and about-us count only on the campaign', () => {
    expect(returnedEffect({ kind: 'hard', recipient: bounce('a@example.org', 'hard', { diagnostic: '550 5.1.1 no' }), source })).toEqual({
      metric: 'hard',
      campaign: { kind: 'hard', status: '5.1.1', detail: '550 5.1.1 no' },
      suppress: { status: 'bounced', reason: 'hard bounce by mail after campaign issue-1--weekly: 5.1.1 550 5.1.1 no' },
    });
    expect(returnedEffect({ kind: 'soft', recipient: bounce('a@example.org', 'soft'), source })).toMatchObject({ metric: 'soft', softBounce: true });
    const delayed = returnedEffect({ kind: 'soft', recipient: bounce('a@example.org', 'soft', { reason: 'delayed', status: '4.4.1' }), source });
    const blocked = returnedEffect({
      kind: 'soft',
      recipient: bounce('a@example.org', 'soft', { reason: 'blocked', aboutSender: true, status: '5.7.1' }),
      source,
    });
    for (const effect of [delayed, blocked]) {
      expect(effect).not.toHaveProperty('softBounce');
      expect(effect).not.toHaveProperty('suppress');
    }
    expect([delayed!.metric, blocked!.metric]).toEqual(['delayed', 'blocked']);
  });

  it('a complaint suppresses as complained; an auto-reply is only counted', () => {
    expect(returnedEffect({ kind: 'complaint', recipient: undefined, source, feedbackType: 'abuse' })).toMatchObject({
      suppress: { status: 'complained' },
      campaign: { kind: 'complained', status: 'abuse' },
    });
    expect(returnedEffect({ kind: 'auto-reply', recipient: undefined, source })).toEqual({ metric: 'auto_reply' });
  });
});

describe('the soft-bounce rule', () => {
  const recent = ['c6', 'c5', 'c4', 'c3', 'c2'];
  const at = (...entries: [string, string][]) => new Map(entries);
  it('counts the campaigns of the window with a soft bounce, each once', () => {
    const softBounces = at(['c6', '2024-06-06T00:00:00.000Z'], ['c4', '2024-06-04T00:00:00.000Z'], ['c1', '2024-06-01T00:00:00.000Z']);
    expect(judgeSoftBounces({ recent, softBounces, activeSince: undefined, limit: 3, window: 5 })).toEqual({
      counted: ['c6', 'c4'],
      reached: false,
      stale: ['c1'],
    });
    softBounces.set('c2', '2024-06-02T00:00:00.000Z');
    expect(judgeSoftBounces({ recent, softBounces, activeSince: undefined, limit: 3, window: 5 })).toMatchObject({
      counted: ['c6', 'c4', 'c2'],
      reached: true,
    });
  });

  it('starts from zero when the subscriber was set active again, and forgets nothing while the window is not full', () => {
    const softBounces = at(['c2', '2024-06-02T00:00:00.000Z'], ['c1', '2024-06-01T00:00:00.000Z']);
    expect(judgeSoftBounces({ recent: ['c2'], softBounces, activeSince: '2024-06-03T00:00:00.000Z', limit: 1, window: 5 })).toEqual({
      counted: [],
      reached: false,
      stale: [],
    });
  });
});
