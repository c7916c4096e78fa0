/**
 * The fleet's metrics and how they are kept in the Redis metrics hash. PURE.
 *
 * Every worker and web process counts locally and adds its deltas to one hash, so the
 * web server can answer /metrics for the whole fleet from one read. Fields of that hash:
 * - a counter series: its Prometheus series name, `newsletter_messages_total{outcome="accepted",reply_class="2xx"}`;
 * - a histogram: `<name>{le="0.05"}` counts the observations in that bucket only (not
 *   cumulative, so a bucket's count is never double-added), and `<name>_sum` the seconds.
 * Adding up hashes from many processes is summing fields; fields this version does not
 * know (an older or newer deploy) are ignored.
 */

export const MESSAGE_OUTCOMES = ['accepted', 'deferred', 'failed', 'skipped'] as const;
/** What the SMTP server answered; `none` when there was no reply (timeout, dropped connection) or no send (skipped). */
export const REPLY_CLASSES = ['2xx', '4xx', '5xx', 'none'] as const;
/**
 * one_click: RFC 8058 POST; page: the button on our confirm page; post: any other POST to the link;
 * mail: a mail to the List-Unsubscribe mailto; bounce: a hard bounce (at send time or by mail) or
 * too many soft ones; complaint: a feedback-loop report; admin: the CLI or admin API.
 */
export const UNSUBSCRIBE_HOWS = ['one_click', 'page', 'post', 'mail', 'bounce', 'complaint', 'admin'] as const;
/** What came back by mail and was matched to a recipient (the campaign's counters, src/campaign/returned-mail.ts, and auto-replies). */
export const RETURNED_MAIL_KINDS = ['hard', 'soft', 'blocked', 'delayed', 'complained', 'unsubscribed', 'auto_reply'] as const;
/**
 * Why returned mail matched no recipient: forged (a return path of our shape with a wrong
 * signature); token_invalid (an unsubscribe mail whose token does not verify or names nobody);
 * unknown_delivery (names a campaign, subscriber or message of ours that does not exist);
 * not_ours (names nothing of ours); unclassified (not a bounce, complaint, auto-reply or unsubscribe).
 */
export const UNMATCHED_REASONS = ['forged', 'token_invalid', 'unknown_delivery', 'not_ours', 'unclassified'] as const;

export type MessageOutcome = (typeof MESSAGE_OUTCOMES)[number];
export type ReplyClass = (typeof REPLY_CLASSES)[number];
export type UnsubscribeHow = (typeof UNSUBSCRIBE_HOWS)[number];
export type ReturnedMailKind = (typeof RETURNED_MAIL_KINDS)[number];
export type UnmatchedReason = (typeof UNMATCHED_REASONS)[number];

export interface CounterDefinition {
  kind: 'counter';
  name: string;
  help: string;
  /** Label name -> every value it takes; a series exists (at 0) for each combination. */
  labels: Readonly<Record<string, readonly string[]>>;
}

export interface HistogramDefinition {
  kind: 'histogram';
  name: string;
  help: string;
  /** Upper bounds in seconds, ascending; +Inf is implied. */
  buckets: readonly number[];
}

export const MESSAGES: CounterDefinition = {
  kind: 'counter',
  name: 'newsletter_messages_total',
  help: 'Delivery attempts by outcome (accepted; deferred = will be retried; failed = settled as failed: 5xx, out of attempts, or reply unknown after a worker crash (none); skipped = suppressed, removed or cancelled before sending) and SMTP reply class',
  labels: { outcome: MESSAGE_OUTCOMES, reply_class: REPLY_CLASSES },
};

export const UNSUBSCRIBES: CounterDefinition = {
  kind: 'counter',
  name: 'newsletter_unsubscribes_total',
  help: 'Subscribers who stopped receiving mail, by how: one_click (RFC 8058), page, post, mail (List-Unsubscribe mailto), bounce, complaint, admin (CLI or admin API)',
  labels: { how: UNSUBSCRIBE_HOWS },
};

export const RETURNED_MAIL: CounterDefinition = {
  kind: 'counter',
  name: 'newsletter_returned_mail_total',
  help: 'Mail that came back after the SMTP server accepted a message, matched to its recipient, by kind: hard and soft bounces, blocked (a bounce about us: blocklist, policy, spam filter), delayed (a delay warning), complained (a feedback-loop report), unsubscribed (by mail), auto_reply; each message counted once',
  labels: { kind: RETURNED_MAIL_KINDS },
};

export const UNMATCHED_MAIL: CounterDefinition = {
  kind: 'counter',
  name: 'newsletter_returned_mail_unmatched_total',
  help: 'Mail that came back and matched no recipient (kept for the operator, changed nothing), by reason: forged, token_invalid, unknown_delivery, not_ours, unclassified',
  labels: { reason: UNMATCHED_REASONS },
};

export const SEND_DURATION: HistogramDefinition = {
  kind: 'histogram',
  name: 'newsletter_send_duration_seconds',
  help: 'SMTP submission time of one message, from handing it to the connection pool to the server reply (every attempt that reached SMTP)',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
};

export const UNSUBSCRIBE_DELAY: HistogramDefinition = {
  kind: 'histogram',
  name: 'newsletter_unsubscribe_suppression_seconds',
  help: 'Time from an unsubscribe request reaching the web server (or, by mail, the inbound server) to the subscriber stored as unsubscribed',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
};

export const SCHEDULE_LATENESS: HistogramDefinition = {
  kind: 'histogram',
  name: 'newsletter_schedule_late_seconds',
  help: 'How long after its scheduled time a scheduled campaign started (about the poll interval, 1 s; more when no worker or web server was running at its time)',
  buckets: [0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400],
};

/** Not stored: the deferred messages again, as one series to alert on. */
export const RETRIES = {
  name: 'newsletter_delivery_retries_total',
  help: 'Deferred delivery attempts that will be retried (4xx, timeouts, dropped connections); the same as newsletter_messages_total{outcome="deferred"} summed',
};

export const FLEET_COUNTERS = [MESSAGES, UNSUBSCRIBES, RETURNED_MAIL, UNMATCHED_MAIL] as const;
export const FLEET_HISTOGRAMS = [SEND_DURATION, UNSUBSCRIBE_DELAY, SCHEDULE_LATENESS] as const;

function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${value}"`)
    .join(',');
}

/** The hash field of one counter series; labels in the definition's order. */
export function counterField(definition: CounterDefinition, labels: Readonly<Record<string, string>>): string {
  const ordered: Record<string, string> = {};
  for (const name of Object.keys(definition.labels)) ordered[name] = labels[name] ?? '';
  return `${definition.name}{${formatLabels(ordered)}}`;
}

function boundText(bound: number): string {
  return Number.isFinite(bound) ? String(bound) : '+Inf';
}

/** The hash field counting observations that fall in the bucket with this upper bound. */
export function bucketField(definition: HistogramDefinition, bound: number): string {
  return `${definition.name}{le="${boundText(bound)}"}`;
}

export function sumField(definition: HistogramDefinition): string {
  return `${definition.name}_sum`;
}

/** Sum fields take HINCRBYFLOAT; everything else is a whole count (HINCRBY). */
export function isSumField(field: string): boolean {
  return field.endsWith('_sum');
}

/** One line of a family, as prom-client's registry formats it. */
export interface ExposedValue {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

export interface ExposedFamily {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExposedValue[];
}

function combinations(labels: Readonly<Record<string, readonly string[]>>): Record<string, string>[] {
  let result: Record<string, string>[] = [{}];
  for (const [name, values] of Object.entries(labels)) {
    result = result.flatMap((partial) => values.map((value) => ({ ...partial, [name]: value })));
  }
  return result;
}

function numberIn(hash: Readonly<Record<string, string>>, field: string): number {
  const value = Number(hash[field] ?? 0);
  return Number.isFinite(value) ? value : 0;
}

export function exposeCounter(definition: CounterDefinition, hash: Readonly<Record<string, string>>): ExposedFamily {
  return {
    name: definition.name,
    help: definition.help,
    type: 'counter',
    values: combinations(definition.labels).map((labels) => ({ labels, value: numberIn(hash, counterField(definition, labels)) })),
  };
}

/** Cumulative `_bucket` lines, `_sum` and `_count`, from the per-bucket counts in the hash. */
export function exposeHistogram(definition: HistogramDefinition, hash: Readonly<Record<string, string>>): ExposedFamily {
  const values: ExposedValue[] = [];
  let cumulative = 0;
  for (const bound of [...definition.buckets, Number.POSITIVE_INFINITY]) {
    cumulative += numberIn(hash, bucketField(definition, bound));
    values.push({ metricName: `${definition.name}_bucket`, labels: { le: boundText(bound) }, value: cumulative });
  }
  values.push({ metricName: `${definition.name}_sum`, labels: {}, value: numberIn(hash, sumField(definition)) });
  values.push({ metricName: `${definition.name}_count`, labels: {}, value: cumulative });
  return { name: definition.name, help: definition.help, type: 'histogram', values };
}

export function exposeRetries(hash: Readonly<Record<string, string>>): ExposedFamily {
  let value = 0;
  for (const replyClass of REPLY_CLASSES) value += numberIn(hash, counterField(MESSAGES, { outcome: 'deferred', reply_class: replyClass }));
  return { name: RETRIES.name, help: RETRIES.help, type: 'counter', values: [{ labels: {}, value }] };
}

/** Every fleet family, from one read of the hash. */
export function exposeFleet(hash: Readonly<Record<string, string>>): ExposedFamily[] {
  return [
    ...FLEET_COUNTERS.map((definition) => exposeCounter(definition, hash)),
    exposeRetries(hash),
    ...FLEET_HISTOGRAMS.map((definition) => exposeHistogram(definition, hash)),
  ];
}
