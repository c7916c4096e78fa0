/**
 * What one process counted since its last flush to the fleet hash, and the narrow
 * recorders domain code is handed (DeliveryMetrics, UnsubscribeMetrics, ReturnedMailMetrics). Counting is a
 * Map update: no I/O on the send path. fleet-counters.ts flushes the deltas to Redis.
 */
import {
  bucketField,
  counterField,
  MESSAGE_OUTCOMES,
  MESSAGES,
  REPLY_CLASSES,
  RETURNED_MAIL,
  RETURNED_MAIL_KINDS,
  SCHEDULE_LATENESS,
  SEND_DURATION,
  sumField,
  UNSUBSCRIBE_DELAY,
  UNSUBSCRIBE_HOWS,
  UNSUBSCRIBES,
  UNMATCHED_MAIL,
  UNMATCHED_REASONS,
  type HistogramDefinition,
  type MessageOutcome,
  type ReplyClass,
  type ReturnedMailKind,
  type UnmatchedReason,
  type UnsubscribeHow,
} from './definitions.ts';

export class MetricTally {
  private pending = new Map<string, number>();
  private readonly histogramFields = new Map<HistogramDefinition, { buckets: string[]; sum: string }>();

  add(field: string, amount = 1): void {
    this.pending.set(field, (this.pending.get(field) ?? 0) + amount);
  }

  observe(definition: HistogramDefinition, value: number): void {
    let fields = this.histogramFields.get(definition);
    if (!fields) {
      fields = { buckets: [...definition.buckets, Number.POSITIVE_INFINITY].map((b) => bucketField(definition, b)), sum: sumField(definition) };
      this.histogramFields.set(definition, fields);
    }
    const { buckets } = definition;
    let index = 0;
    while (index < buckets.length && value > buckets[index]!) index++;
    this.add(fields.buckets[index]!);
    this.add(fields.sum, value);
  }

  get isEmpty(): boolean {
    return this.pending.size === 0;
  }

  /** Everything counted so far; the tally starts again from zero. */
  take(): Map<string, number> {
    const taken = this.pending;
    this.pending = new Map();
    return taken;
  }

  /** Deltas a failed flush could not write go back, so a Redis blip loses no counts. */
  putBack(deltas: ReadonlyMap<string, number>): void {
    for (const [field, amount] of deltas) this.add(field, amount);
  }
}

export interface UnsubscribeMetrics {
  /** A subscriber stopped receiving mail; the web server also says how long since the request arrived. */
  unsubscribed(how: UnsubscribeHow, secondsSinceRequest?: number): void;
}

export interface DeliveryMetrics extends UnsubscribeMetrics {
  /** Right before a message goes to SMTP; call what it returns once the attempt has its outcome. */
  sendStarted(): (outcome: Exclude<MessageOutcome, 'skipped'>, replyClass: ReplyClass) => void;
  /** Settled without an SMTP attempt: skipped, or failed because a crashed attempt's outcome is unknown. */
  settledUnsent(outcome: 'skipped' | 'failed'): void;
}

export interface ReturnedMailMetrics extends UnsubscribeMetrics {
  /** Returned mail matched to its recipient, counted once per message. */
  returnedMail(kind: ReturnedMailKind): void;
  /** Returned mail that matched no recipient, counted once per message. */
  unmatchedMail(reason: UnmatchedReason): void;
}

export interface ScheduleMetrics {
  /** A scheduled campaign started, this many seconds after its time. */
  scheduleStarted(lateSeconds: number): void;
}

/** Recorders writing into one tally (a process has one, shared by its worker and web server). */
export function metricsRecorder(tally: MetricTally, clock: () => number = () => performance.now()): DeliveryMetrics & ReturnedMailMetrics & ScheduleMetrics {
  // Field names built once: the send path only looks them up.
  const messageFields = {} as Record<MessageOutcome, Record<ReplyClass, string>>;
  for (const outcome of MESSAGE_OUTCOMES) {
    messageFields[outcome] = {} as Record<ReplyClass, string>;
    for (const replyClass of REPLY_CLASSES) messageFields[outcome][replyClass] = counterField(MESSAGES, { outcome, reply_class: replyClass });
  }
  const unsubscribeFields = new Map(UNSUBSCRIBE_HOWS.map((how) => [how, counterField(UNSUBSCRIBES, { how })]));
  const returnedFields = new Map(RETURNED_MAIL_KINDS.map((kind) => [kind, counterField(RETURNED_MAIL, { kind })]));
  const unmatchedFields = new Map(UNMATCHED_REASONS.map((reason) => [reason, counterField(UNMATCHED_MAIL, { reason })]));
  return {
    sendStarted() {
      const started = clock();
      return (outcome, replyClass) => {
        tally.add(messageFields[outcome][replyClass]);
        tally.observe(SEND_DURATION, (clock() - started) / 1000);
      };
    },
    settledUnsent(outcome) {
      tally.add(messageFields[outcome].none);
    },
    unsubscribed(how, secondsSinceRequest) {
      tally.add(unsubscribeFields.get(how)!);
      if (secondsSinceRequest !== undefined) tally.observe(UNSUBSCRIBE_DELAY, secondsSinceRequest);
    },
    returnedMail(kind) {
      tally.add(returnedFields.get(kind)!);
    },
    unmatchedMail(reason) {
      tally.add(unmatchedFields.get(reason)!);
    },
    scheduleStarted(lateSeconds) {
      tally.observe(SCHEDULE_LATENESS, lateSeconds);
    },
  };
}
