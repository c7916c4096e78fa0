import { describe, expect, it } from 'vitest';
import { counterField, MESSAGES } from '../../src/metrics/definitions.ts';
import { createScrapeRegistry } from '../../src/metrics/scrape-registry.ts';
import { parsePrometheus } from './parse-prometheus.ts';

describe('the /metrics registry', () => {
  it('formats the fleet hash, queue depth, workers and process metrics in Prometheus text, reading the hash once a scrape', async () => {
    let reads = 0;
    let relayReads = 0;
    const registry = createScrapeRegistry({
      readFleet: async () => {
        reads++;
        return {
          [counterField(MESSAGES, { outcome: 'failed', reply_class: '5xx' })]: '3',
          'newsletter_send_duration_seconds{le="0.05"}': '2',
          newsletter_send_duration_seconds_sum: '0.06',
        };
      },
      queueCounts: async () => ({ waiting: 4, delayed: 1 }),
      workerCount: async () => 2,
      relay: async () => {
        relayReads++;
        return { state: 'open', pausedForMs: 12_500, failures: 5, reason: 'Greeting never received', pauses: 3 };
      },
      domains: async () => [
        { group: 'google', state: 'paused', until: '2030-01-01T00:00:00.000Z', pausedForMs: 60_000, share: 0, reason: '421 4.7.28 unusual rate', waiting: 42 },
        { group: 'yahoo', state: 'slow-start', until: '2029-12-31T23:59:00.000Z', pausedForMs: 0, share: 0.2, reason: '421 4.7.0 [TSS04]', waiting: 0 },
      ],
    });
    const text = await registry.metrics();
    expect(reads).toBe(1);
    expect(registry.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE newsletter_messages_total counter');
    expect(text).toContain('# TYPE newsletter_send_duration_seconds histogram');
    const samples = parsePrometheus(text);
    expect(samples.get('newsletter_messages_total{outcome="failed",reply_class="5xx"}')).toBe(3);
    expect(samples.get('newsletter_messages_total{outcome="accepted",reply_class="2xx"}')).toBe(0);
    expect(samples.get('newsletter_send_duration_seconds_bucket{le="0.025"}')).toBe(0);
    expect(samples.get('newsletter_send_duration_seconds_bucket{le="0.05"}')).toBe(2);
    expect(samples.get('newsletter_send_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(samples.get('newsletter_send_duration_seconds_count')).toBe(2);
    expect(samples.get('newsletter_send_duration_seconds_sum')).toBe(0.06);
    expect(samples.get('newsletter_queue_batches{state="waiting"}')).toBe(4);
    expect(samples.get('newsletter_queue_batches{state="active"}')).toBe(0);
    expect(samples.get('newsletter_domain_paused{group="google"}')).toBe(1);
    expect(samples.get('newsletter_domain_paused{group="yahoo"}')).toBe(0);
    expect(samples.get('newsletter_domain_paused_until_seconds{group="google"}')).toBe(Date.parse('2030-01-01T00:00:00.000Z') / 1000);
    expect(samples.get('newsletter_domain_waiting_recipients{group="google"}')).toBe(42);
    expect(samples.get('newsletter_domain_pace_share{group="yahoo"}')).toBe(0.2);
    expect(samples.get('newsletter_domain_pause_info{group="google",reason="421 4.7.28 unusual rate"}')).toBe(1);
    expect(samples.get('newsletter_delivery_workers')).toBe(2);
    expect(samples.get('newsletter_delivery_retries_total')).toBe(0);
    expect(samples.get('newsletter_relay_paused')).toBe(1);
    expect(samples.get('newsletter_relay_pause_seconds')).toBe(12.5);
    expect(samples.get('newsletter_relay_failures')).toBe(5);
    expect(samples.get('newsletter_relay_pauses')).toBe(3);
    expect(relayReads).toBe(1);
    expect(samples.has('process_cpu_user_seconds_total')).toBe(true);
    await registry.metrics();
    expect(reads).toBe(2);
    expect(relayReads).toBe(2);
  });

  it('gives every server its own registry (two in one process do not collide)', async () => {
    const closed = { state: 'closed', pausedForMs: 0, failures: 0, reason: '', pauses: 0 } as const;
    const sources = { readFleet: async () => ({}), queueCounts: async () => ({}), workerCount: async () => 0, relay: async () => closed };
    const [a, b] = [createScrapeRegistry(sources), createScrapeRegistry(sources)];
    expect(a).not.toBe(b);
    expect(parsePrometheus(await b.metrics()).get('newsletter_delivery_workers')).toBe(0);
  });

  it('fails the scrape when Redis cannot be read, instead of answering zeros', async () => {
    const registry = createScrapeRegistry({
      readFleet: async () => {
        throw new Error('connect ECONNREFUSED');
      },
      queueCounts: async () => ({}),
      workerCount: async () => 0,
      relay: async () => ({ state: 'closed', pausedForMs: 0, failures: 0, reason: '', pauses: 0 }),
    });
    await expect(registry.metrics()).rejects.toThrow(/ECONNREFUSED/);
  });
});
