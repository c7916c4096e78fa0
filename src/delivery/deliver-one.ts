/**
 * One message to one subscriber: check the ledger right before, the subscriber right
 * before the end of the message, record the reply right after. Never sends to a settled
 * recipient.
 */
import { isNewsletterError } from '../errors.ts';
import { canReceive, type Subscriber } from '../subscribers/subscriber.ts';
import type { Logger } from '../logger.ts';
import type { DeliveryMetrics } from '../metrics/metric-tally.ts';
import { classifyFailure, type FailureVerdict, type SmtpFailureLike } from './classify-failure.ts';
import { OUTCOME_UNKNOWN_AFTER_CRASH, OUTCOME_UNKNOWN_AFTER_END, OUTCOME_UNKNOWN_CONCURRENT } from '../campaign/delivery-outcome.ts';
import type { DeliveryLedger, SendingMark } from './ledger.ts';
import { messageIdFor, personalise, type MessageBuffers, type MessageTemplate } from './message-template.ts';
import type { DomainPace } from './domain-pace.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { RelayBreaker } from './relay-breaker.ts';
import type { RecipientLinks } from './recipient-links.ts';
import type { RecipientDirectory } from './recipient-directory.ts';
import { recognizeThrottle } from './throttle-reply.ts';
import type { MessageTransport, SendFailure } from './transport.ts';

/**
 * What one deliverOne call did: settled the recipient, deferred them (`relay-failed`: deferred
 * because the relay failed; `throttled`: deferred because their receiving domain asked us to
 * slow down; neither spends an attempt), found them settled before, or stopped for a pause
 * (`domain-paused`: their domain's group was paused meanwhile; nothing was sent or recorded).
 */
export type DeliveryResult = 'accepted' | 'failed' | 'skipped' | 'deferred' | 'relay-failed' | 'throttled' | 'paused' | 'domain-paused' | 'settled-before';

export interface DeliverOneDeps {
  ledger: DeliveryLedger;
  directory: Pick<RecipientDirectory, 'canReceive' | 'markBounced' | 'getMany'>;
  transport: MessageTransport;
  rateLimiter: RateLimiter | undefined;
  links: (subscriberId: string, campaign: { id: string }) => RecipientLinks;
  now: () => Date;
  /** Reused message memory (optional): a buffer goes back only after the server accepted its message. */
  buffers?: MessageBuffers;
  /** Counts outcomes, SMTP time and bounces (in memory; flushed to Redis elsewhere). */
  metrics?: DeliveryMetrics;
  /** Told of every relay failure and of successes, for the whole fleet; none in tests that don't need it. */
  relay?: Pick<RelayBreaker, 'failure' | 'success'>;
  /** The receiving groups' pace for the fleet: told of throttling replies, asked right before a message starts. */
  pace?: Pick<DomainPace, 'throttled' | 'pausedForMs'>;
}

export interface DeliverOneInput {
  campaignId: string;
  template: MessageTemplate;
  subscriberId: string;
  /**
   * As read when the batch began; undefined when removed since the campaign was planned. Its
   * status is only a first filter: the check that counts is right before the end of the message.
   */
  recipient: Pick<Subscriber, 'email' | 'status'> | undefined;
  /** On the last attempt a deferral becomes a failure instead of a retry. */
  lastAttempt: boolean;
  /** Called as soon as the SMTP server has answered, before the outcome is recorded. */
  onReply?: () => void;
  /** The batch's logger (campaignId, jobId bound): failures are logged here, masked. */
  log?: Pick<Logger, 'info' | 'debug' | 'warn'>;
  /** The recipient's receiving group (receiving-domain.ts), when the pace is kept. */
  group?: string;
}

/** The subscriber left (unsubscribed, bounced, removed) while their message was on its way. */
class SuppressedMeanwhile extends Error {}

/** Redis failed right before the end of the message: the end is not sent, and it is Redis's failure, not the SMTP server's. */
class StoreFailed extends Error {}

/** Another attempt settled or is sending this recipient since the precheck (two workers held the batch). */
class TakenMeanwhile extends Error {
  constructor(readonly by: 'settled' | 'marked') {
    super(`another attempt ${by === 'settled' ? 'settled' : 'is sending to'} this recipient`);
  }
}

/** Records an outcome reached without an SMTP attempt (skipped, or failed as outcome unknown); counts it once. */
async function settleUnsent(deps: DeliverOneDeps, input: DeliverOneInput, outcome: 'skipped' | 'failed', detail: string): Promise<'skipped' | 'failed'> {
  if (await deps.ledger.record(input.campaignId, input.subscriberId, outcome, detail, deps.now())) deps.metrics?.settledUnsent(outcome);
  return outcome;
}

/** Why the subscriber may not receive now ('subscriber unsubscribed', 'subscriber removed'), read fresh; undefined when they may. */
async function suppressedNow(deps: DeliverOneDeps, subscriberId: string): Promise<string | undefined> {
  const [current] = await deps.directory.getMany([subscriberId]);
  return !current ? 'subscriber removed' : canReceive(current) ? undefined : `subscriber ${current.status}`;
}

/**
 * Right before sending: the ledger entry, the campaign's state and the subscriber, fresh. A
 * result when this recipient is settled without sending now; undefined when the message may go.
 */
async function settleBeforeSending(deps: DeliverOneDeps, input: DeliverOneInput): Promise<DeliveryResult | undefined> {
  const check = await deps.ledger.precheck(input.campaignId, input.subscriberId);
  if (check.settled) return 'settled-before';
  // An earlier attempt sent the message's end and died before recording the reply (SIGKILL
  // between the server's 250 and the ledger write): it may have been delivered. At most once
  // wins: record it as failed with that explanation instead of sending it again.
  if (check.outcomeUnknown) return settleUnsent(deps, input, 'failed', OUTCOME_UNKNOWN_AFTER_CRASH);
  if (check.state === 'paused') return 'paused';
  if (check.state === 'cancelled') return settleUnsent(deps, input, 'skipped', 'campaign cancelled');
  if (check.state === undefined) return settleUnsent(deps, input, 'skipped', 'campaign deleted');
  if (!input.recipient) return settleUnsent(deps, input, 'skipped', 'subscriber removed');
  // Not active when the batch began: read again, they may be back.
  if (!canReceive(input.recipient)) {
    const reason = await suppressedNow(deps, input.subscriberId);
    if (reason) return settleUnsent(deps, input, 'skipped', reason);
  }
  return undefined;
}

export async function deliverOne(deps: DeliverOneDeps, input: DeliverOneInput): Promise<DeliveryResult> {
  const settled = await settleBeforeSending(deps, input);
  if (settled) return settled;
  const { ledger } = deps;
  const { campaignId, subscriberId } = input;
  const recipient = input.recipient!;
  const messageId = messageIdFor(campaignId, subscriberId, input.template.from);
  const links = deps.links(subscriberId, { id: campaignId });
  const raw = personalise(input.template, { to: recipient.email, messageId, ...links }, deps.buffers?.take());
  await deps.rateLimiter?.acquire();
  // The last moment before anything goes out: a pause another worker began while this one
  // waited for its turn holds the message (nothing sent, nothing recorded).
  if (input.group !== undefined && (deps.pace?.pausedForMs(input.group) ?? 0) > 0) {
    deps.buffers?.give(raw); // never handed to the connection
    return 'domain-paused';
  }
  const sent = deps.metrics?.sendStarted();
  /** This attempt's own "sending" mark, once set. */
  let marked: SendingMark | undefined;
  try {
    // Right before the end of the message, after which the server may accept it: the
    // "sending" mark goes to Redis, so whoever finds it without an outcome knows the message
    // may have arrived (see above). Setting it checks, in the same step, that no other attempt
    // settled or marked the recipient since the precheck (a worker that stalled past its lock
    // while the batch went to another). And the subscriber is read once more, so an
    // unsubscribe answered before this message's DATA began (the wait for a rate limit or a
    // connection can be long) stops it before its end.
    await deps.transport.send({ from: links.returnPath ?? input.template.from, to: recipient.email, messageId }, raw, async () => {
      // Both answers, also when one fails: the subscriber lives under other keys than the
      // campaign (on a Cluster maybe on another master, failing over on its own), and a mark set
      // while that read failed is this attempt's to take back.
      const [mark, stillActive] = await Promise.allSettled([ledger.markSending(campaignId, subscriberId, deps.now()), deps.directory.canReceive(subscriberId)]);
      if (mark.status === 'fulfilled' && mark.value.result === 'ok') marked = mark.value;
      if (mark.status === 'rejected') throw new StoreFailed('Redis failed right before the end of the message', { cause: mark.reason });
      if (stillActive.status === 'rejected') throw new StoreFailed('Redis failed right before the end of the message', { cause: stillActive.reason });
      if (mark.value.result !== 'ok') throw new TakenMeanwhile(mark.value.result);
      if (!stillActive.value) throw new SuppressedMeanwhile('unsubscribed while the message was on its way');
    });
  } catch (error) {
    /** Whether the end of the message may have reached the server: then the mark stands, whatever follows. */
    const endSent = (error as SendFailure | undefined)?.endSent === true;
    input.onReply?.();
    try {
      return await settleFailedSend(deps, input, error, sent);
    } catch (unsettled) {
      // Redis failed before an outcome was recorded: right before the end (StoreFailed), or at
      // the outcome or a call before it (the relay's, the pace's). When the end never went, this
      // attempt knows the message was not sent, and its mark must not outlive it: left, it would
      // read "outcome unknown" and the recipient would never be sent to.
      if (!endSent) await takeBackUnended(marked, input);
      throw unsettled;
    }
  }
  sent?.('accepted', '2xx');
  input.onReply?.();
  deps.buffers?.give(raw);
  if (await deps.relay?.success()) input.log?.info('relay answers again: sending resumed');
  await ledger.recordReply(campaignId, subscriberId, 'accepted', '', deps.now());
  return 'accepted';
}

/**
 * Takes back this attempt's mark when its end never went. If even that fails (Redis away past
 * the ledger's retries), the mark stays and the recipient will read "outcome unknown": never a
 * message sent twice, but one lost, so it is said.
 */
async function takeBackUnended(marked: SendingMark | undefined, input: DeliverOneInput): Promise<void> {
  await marked?.takeBack().catch((error: unknown) => {
    input.log?.warn(
      { subscriberId: input.subscriberId, err: error },
      'could not take back the "sending" mark of a message that never ended: the recipient will read outcome unknown',
    );
  });
}

/** What a send that failed, or was stopped before its end, becomes; recorded. */
async function settleFailedSend(
  deps: DeliverOneDeps,
  input: DeliverOneInput,
  error: unknown,
  sent: ReturnType<DeliveryMetrics['sendStarted']> | undefined,
): Promise<DeliveryResult> {
  const { ledger } = deps;
  const { campaignId, subscriberId } = input;
  // Not a deferral: the batch goes back to the queue without spending an attempt (batch-processor.ts).
  if (error instanceof StoreFailed) throw error.cause;
  if (error instanceof SuppressedMeanwhile) {
    return settleUnsent(deps, input, 'skipped', (await suppressedNow(deps, subscriberId)) ?? 'subscriber left while the message was on its way');
  }
  if (error instanceof TakenMeanwhile) {
    if (error.by === 'settled') return 'settled-before';
    // The other attempt's reply replaces this when it records one; if it never does, the
    // recipient is settled all the same and the campaign can complete.
    return settleUnsent(deps, input, 'failed', OUTCOME_UNKNOWN_CONCURRENT);
  }
  const throttle = input.group !== undefined && deps.pace ? recognizeThrottle(error as SmtpFailureLike) : undefined;
  if (throttle) {
    // The receiving domain's pace, not this recipient's fault nor the relay's: the group
    // pauses for the fleet, and the recipient waits for it without spending an attempt.
    sent?.('deferred', '4xx');
    const { opened, pausedForMs, pauses } = await deps.pace!.throttled(input.group!, throttle.reply, throttle.waitMs);
    if (opened) {
      const until = new Date(Date.now() + pausedForMs).toISOString();
      input.log?.warn(
        { group: input.group, reason: throttle.reply, pauseMs: pausedForMs, until, pauses },
        'receiving domain throttles: paused for the whole fleet',
      );
    } else input.log?.info({ subscriberId, group: input.group, reply: throttle.reply }, 'delivery deferred: the receiving domain throttles');
    await ledger.recordReply(campaignId, subscriberId, 'deferred', throttle.reply, deps.now());
    return 'throttled';
  }
  return recordFailure(deps, input, classifyFailure(error as SmtpFailureLike), sent);
}

/** What a failed SMTP attempt becomes: outcome unknown, a relay failure, a deferral, or failed (with a hard bounce). */
async function recordFailure(
  deps: DeliverOneDeps,
  input: DeliverOneInput,
  verdict: FailureVerdict,
  sent: ReturnType<DeliveryMetrics['sendStarted']> | undefined,
): Promise<DeliveryResult> {
  const { ledger } = deps;
  const { campaignId, subscriberId } = input;
  // The reply often names the recipient; the logger masks addresses in every string field.
  const classified = { subscriberId, reply: verdict.reply, replyClass: verdict.replyClass };
  /** Counts a relay failure for the fleet's breaker; true when this one paused sending (said in the log). */
  const relayFailed = async (relay: NonNullable<DeliverOneDeps['relay']>) => {
    const { opened, state } = await relay.failure(verdict.reply);
    if (opened)
      input.log?.warn({ reason: verdict.reply, failures: state.failures, pauseMs: state.pausedForMs }, 'relay failing: sending paused for the whole fleet');
    return opened;
  };
  if (verdict.outcome === 'unknown') {
    // The end went and its reply never came: the server may have the message. At most once
    // wins, whatever the attempt, as for a worker that died there (see above). A timeout or a
    // dropped connection is still the relay's trouble, for the fleet's breaker.
    sent?.('failed', verdict.replyClass);
    input.log?.info({ ...classified, outcome: 'unknown' }, 'delivery failed: no reply to the end of the message, outcome unknown');
    await ledger.recordReply(campaignId, subscriberId, 'failed', `${OUTCOME_UNKNOWN_AFTER_END} (${verdict.reply})`, deps.now());
    if (verdict.relayFailure && deps.relay) await relayFailed(deps.relay);
    return 'failed';
  }
  if (verdict.relayFailure && deps.relay) {
    // Not this recipient's doing: deferred without spending an attempt, and counted for the fleet's breaker.
    sent?.('deferred', verdict.replyClass);
    if (!(await relayFailed(deps.relay))) input.log?.info(classified, 'delivery deferred: the relay failed');
    await ledger.recordReply(campaignId, subscriberId, 'deferred', verdict.reply, deps.now());
    return 'relay-failed';
  }
  if (verdict.outcome === 'deferred' && !input.lastAttempt) {
    sent?.('deferred', verdict.replyClass);
    input.log?.info(classified, 'delivery deferred: tried again later');
    await ledger.recordReply(campaignId, subscriberId, 'deferred', verdict.reply, deps.now());
    return 'deferred';
  }
  sent?.('failed', verdict.replyClass);
  input.log?.info({ ...classified, outcome: verdict.outcome, hardBounce: verdict.hardBounce }, 'delivery failed');
  await ledger.recordReply(campaignId, subscriberId, 'failed', verdict.reply, deps.now());
  if (verdict.hardBounce) {
    const bounced = await deps.directory.markBounced(subscriberId, `hard bounce in campaign ${campaignId}: ${verdict.reply}`).catch((error: unknown) => {
      // Removed meanwhile: nothing left to suppress.
      if (!isNewsletterError(error, 'SUBSCRIBER_NOT_FOUND')) throw error;
    });
    if (bounced?.changed) deps.metrics?.unsubscribed('bounce');
  }
  return 'failed';
}
