import { describe, expect, it } from 'vitest';
import {
  bucketField,
  counterField,
  exposeCounter,
  exposeFleet,
  exposeHistogram,
  isSumField,
  MESSAGES,
  SEND_DURATION,
  sumField,
  UNSUBSCRIBE_DELAY,
  UNSUBSCRIBES,
  type HistogramDefinition,
} from '../../src/metrics/definitions.ts';
import { metricsRecorder, MetricTally } from '../../src/metrics/metric-tally.ts';

const LATENCY: HistogramDefinition = { kind: 'histogram', name: 'x_seconds', help: 'x', buckets: [0.1, 1] };

/** What HINCRBY/HINCRBYFLOAT do to the hash, for several processes' deltas. */
function addToHash(hash: Record<string, string>, deltas: ReadonlyMap<string, number>): void {
  for (const [field, amount] of deltas) hash[field] = String(Number(hash[field] ?? 0) + amount);
}

describe('fleet metric fields', () => {
  it('names a counter series like its Prometheus line, labels in the definition order', () => {
    expect(counterField(MESSAGES, { reply_class: '4xx', outcome: 'deferred' })).toBe('newsletter_messages_total{outcome="deferred",reply_class="4xx"}');
    expect(counterField(UNSUBSCRIBES, { how: 'one_click' })).toBe('newsletter_unsubscribes_total{how="one_click"}');
  });

  it('keeps a histogram as per-bucket counts and a float sum', () => {
    expect(bucketField(LATENCY, 0.1)).toBe('x_seconds{le="0.1"}');
    expect(bucketField(LATENCY, Number.POSITIVE_INFINITY)).toBe('x_seconds{le="+Inf"}');
    expect(sumField(LATENCY)).toBe('x_seconds_sum');
    expect(isSumField(sumField(LATENCY))).toBe(true);
    expect(isSumField(bucketField(LATENCY, 1))).toBe(false);
    expect(isSumField(counterField(MESSAGES, { outcome: 'accepted', reply_class: '2xx' }))).toBe(false);
  });
});

describe('MetricTally', () => {
  it('counts observations into their bucket (boundaries inclusive, +Inf past the last) and sums them', () => {
    const tally = new MetricTally();
    for (const value of [0.05, 0.1, 0.5, 3]) tally.observe(LATENCY, value);
    expect(Object.fromEntries(tally.take())).toEqual({
      'x_seconds{le="0.1"}': 2,
      'x_seconds{le="1"}': 1,
      'x_seconds{le="+Inf"}': 1,
      x_seconds_sum: 3.65,
    });
  });

  it('take() hands over the deltas and starts from zero; putBack() returns deltas a failed flush could not write', () => {
    const tally = new MetricTally();
    tally.add('a', 2);
    const first = tally.take();
    expect(tally.isEmpty).toBe(true);
    tally.add('a');
    tally.putBack(first);
    expect(Object.fromEntries(tally.take())).toEqual({ a: 3 });
  });
});

describe('merging processes through the hash', () => {
  it('sums counters and histograms from several processes, and exposes cumulative buckets with _sum and _count', () => {
    const hash: Record<string, string> = {};
    let now = 0;
    const clock = () => now;
    for (const latenciesMs of [
      [20, 700],
      [80, 4000],
    ]) {
      const tally = new MetricTally();
      const metrics = metricsRecorder(tally, clock);
      for (const ms of latenciesMs) {
        const done = metrics.sendStarted();
        now += ms;
        done('accepted', '2xx');
      }
      metrics.settledUnsent('skipped');
      addToHash(hash, tally.take());
    }
    const families = exposeFleet(hash);
    const messages = families.find((f) => f.name === MESSAGES.name)!;
    expect(messages.values.find((v) => v.labels.outcome === 'accepted' && v.labels.reply_class === '2xx')!.value).toBe(4);
    expect(messages.values.find((v) => v.labels.outcome === 'skipped' && v.labels.reply_class === 'none')!.value).toBe(2);
    // Every combination exists from the start, at 0, so rate() sees the first increment.
    expect(messages.values).toHaveLength(16);
    expect(messages.values.find((v) => v.labels.outcome === 'failed' && v.labels.reply_class === '5xx')!.value).toBe(0);

    const latency = exposeHistogram(SEND_DURATION, hash);
    const bucket = (le: string) => latency.values.find((v) => v.metricName === `${SEND_DURATION.name}_bucket` && v.labels.le === le)!.value;
    expect(bucket('0.01')).toBe(0);
    expect(bucket('0.025')).toBe(1);
    expect(bucket('0.1')).toBe(2);
    expect(bucket('1')).toBe(3);
    expect(bucket('2.5')).toBe(3);
    expect(bucket('5')).toBe(4);
    expect(bucket('+Inf')).toBe(4);
    expect(latency.values.find((v) => v.metricName === `${SEND_DURATION.name}_count`)!.value).toBe(4);
    expect(latency.values.find((v) => v.metricName === `${SEND_DURATION.name}_sum`)!.value).toBeCloseTo(4.8, 9);
  });

  it('exposes retries as the deferred messages of every reply class', () => {
    const tally = new MetricTally();
    const metrics = metricsRecorder(tally, () => 0);
    metrics.sendStarted()('deferred', '4xx');
    metrics.sendStarted()('deferred', 'none');
    metrics.sendStarted()('failed', '5xx');
    metrics.settledUnsent('failed');
    const hash: Record<string, string> = {};
    addToHash(hash, tally.take());
    const retries = exposeFleet(hash).find((f) => f.name === 'newsletter_delivery_retries_total')!;
    expect(retries.values).toEqual([{ labels: {}, value: 2 }]);
    // A failure without an attempt (outcome unknown after a crash) has no reply and no SMTP time.
    expect(exposeCounter(MESSAGES, hash).values.find((v) => v.labels.outcome === 'failed' && v.labels.reply_class === 'none')!.value).toBe(1);
    expect(exposeHistogram(SEND_DURATION, hash).values.find((v) => v.metricName?.endsWith('_count'))!.value).toBe(3);
  });

  it('counts unsubscribes by how, and the suppression delay only when the web server measured it', () => {
    const tally = new MetricTally();
    const metrics = metricsRecorder(tally);
    metrics.unsubscribed('one_click', 0.004);
    metrics.unsubscribed('bounce');
    const hash: Record<string, string> = {};
    addToHash(hash, tally.take());
    const byHow = Object.fromEntries(exposeCounter(UNSUBSCRIBES, hash).values.map((v) => [v.labels.how, v.value]));
    expect(byHow).toEqual({ one_click: 1, page: 0, post: 0, mail: 0, bounce: 1, complaint: 0, admin: 0 });
    const delay = exposeHistogram(UNSUBSCRIBE_DELAY, hash);
    expect(delay.values.find((v) => v.metricName?.endsWith('_count'))!.value).toBe(1);
    expect(delay.values.find((v) => v.metricName?.endsWith('_bucket') && v.labels.le === '0.005')!.value).toBe(1);
    expect(delay.values.find((v) => v.metricName?.endsWith('_bucket') && v.labels.le === '0.0025')!.value).toBe(0);
  });

  it('ignores fields it does not know and values that are not numbers', () => {
    const families = exposeFleet({
      'newsletter_messages_total{outcome="bogus",reply_class="2xx"}': '7',
      'newsletter_messages_total{outcome="accepted",reply_class="2xx"}': 'x',
    });
    const total = families.flatMap((f) => f.values).reduce((sum, v) => sum + v.value, 0);
    expect(total).toBe(0);
  });
});
