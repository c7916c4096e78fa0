/**
 * What a matched returned message does to its subscriber and its campaign. PURE.
 *
 * - hard: the campaign counts it; the subscriber becomes `bounced` at once, with the status
 *   and the diagnostic in the history.
 * - soft: the campaign counts it; it counts towards the subscriber's soft-bounce limit
 *   (src/subscribers/soft-bounce-rule.ts).
 * - soft about us (blocklist, spam filter, policy, authentication, rate limit): `blocked` on the
 *   campaign, for the operator; never against the subscriber.
 * - a delay warning: `delayed` on the campaign; never against the subscriber (it may arrive).
 * - complaint: the campaign counts it; the subscriber becomes `complained` at once.
 * - unsubscribe by mail: the subscriber is unsubscribed as by the one-click POST; the campaign counts it.
 * - auto-reply: only counted in metrics. The address works.
 */
import type { ReturnedEntry } from '../campaign/returned-mail.ts';
import type { ReturnedMailKind } from '../metrics/definitions.ts';
import type { InboundKind, RecipientVerdict } from './classify-inbound-message.ts';

/** The history's reason for an unsubscribe by mail (the one-click POST's is `one-click (RFC 8058)`). */
export const MAIL_UNSUBSCRIBE_REASON = 'unsubscribe mail (List-Unsubscribe mailto)';

export interface ReturnedEffect {
  metric: ReturnedMailKind;
  /** Counted on the campaign, when the campaign is known. */
  campaign?: ReturnedEntry;
  suppress?: { status: 'bounced' | 'complained'; reason: string };
  unsubscribe?: { reason: string };
  /** A soft bounce that counts towards the subscriber's limit (when the campaign is known). */
  softBounce?: boolean;
}

export interface EffectInput {
  kind: InboundKind;
  /** A bounce's verdict about this recipient (match-candidates.ts's recipientFor). */
  recipient: RecipientVerdict | undefined;
  /** `campaign <id>`, `the test send`, ... */
  source: string;
  /** A complaint's ARF Feedback-Type. */
  feedbackType?: string;
}

export function returnedEffect({ kind, recipient, source, feedbackType }: EffectInput): ReturnedEffect | undefined {
  if (kind === 'complaint') {
    const type = feedbackType ?? 'abuse';
    return {
      metric: 'complained',
      campaign: { kind: 'complained', status: type, detail: '' },
      suppress: { status: 'complained', reason: `complaint (feedback loop, ${type}) about ${source}` },
    };
  }
  if (kind === 'unsubscribe')
    return { metric: 'unsubscribed', campaign: { kind: 'unsubscribed', status: null, detail: '' }, unsubscribe: { reason: MAIL_UNSUBSCRIBE_REASON } };
  if (kind === 'auto-reply') return { metric: 'auto_reply' };
  if (!recipient || (recipient.kind !== 'hard' && recipient.kind !== 'soft')) return undefined;
  const said = [recipient.status, recipient.diagnostic].filter(Boolean).join(' ') || recipient.reason;
  const entry = { status: recipient.status, detail: recipient.diagnostic ?? recipient.reason };
  if (recipient.kind === 'hard') {
    return { metric: 'hard', campaign: { kind: 'hard', ...entry }, suppress: { status: 'bounced', reason: `hard bounce by mail after ${source}: ${said}` } };
  }
  if (recipient.reason === 'delayed') return { metric: 'delayed', campaign: { kind: 'delayed', ...entry } };
  if (recipient.aboutSender) return { metric: 'blocked', campaign: { kind: 'blocked', ...entry } };
  return { metric: 'soft', campaign: { kind: 'soft', ...entry }, softBounce: true };
}
