/**
 * /metrics and the logs of real processes: `newsletter server` and a delivery worker process
 * (workers/delivery-worker.ts) on a real Redis prefix, sending to a real SMTP server that
 * defers one address and rejects another.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createToken } from '../../src/subscribers/tokens.ts';
import { startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { processesPerTest } from '../helpers/processes.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { parsePrometheus } from './parse-prometheus.ts';

const ADMIN_TOKEN = 'admin-token-for-the-metrics-test-'.padEnd(48, 'A');
const SECRET = 'newsletter-secret-for-the-metrics-test-'.padEnd(48, 'S');
const SMTP_PASSWORD = 'smtp-password-never-logged-9f3a';
const DKIM_KEY = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const DKIM_KEY_BODY = DKIM_KEY.split('\n')[1]!;

const processes = processesPerTest();
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function scrape(base: string): Promise<Map<string, number>> {
  const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await response.text());
}

/** Scrapes until `done` holds: workers flush every METRICS_FLUSH_MS, so figures arrive a moment later. */
function scrapeUntil(base: string, done: (m: Map<string, number>) => boolean): Promise<Map<string, number>> {
  return vi.waitFor(
    async () => {
      const metrics = await scrape(base);
      if (!done(metrics)) throw new Error(`metrics not yet at the expected figures:\n${[...metrics].filter(([k]) => k.startsWith('newsletter_')).join('\n')}`);
      return metrics;
    },
    { timeout: 10_000, interval: 100 },
  );
}

const messages = (m: Map<string, number>, outcome: string, replyClass: string) =>
  m.get(`newsletter_messages_total{outcome="${outcome}",reply_class="${replyClass}"}`);
const queued = (m: Map<string, number>) => [...m].filter(([k]) => k.startsWith('newsletter_queue_batches{')).reduce((sum, [, v]) => sum + v, 0);

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('metrics and logs while a campaign runs', () => {
  it('/metrics (token only) counts what the SMTP server did, and the logs name ids, never addresses or secrets', async () => {
    const smtp = await startTestSmtpServer({
      script: { deferFirst: ['r1@example.org'], reject: ['r2@example.org'] },
      auth: { user: 'newsletter', pass: SMTP_PASSWORD },
    });
    const h = (harness = await startHarness({ smtp }));
    const env = {
      ...h.env,
      SMTP_URL: h.smtp.url.replace('smtp://', `smtp://newsletter:${SMTP_PASSWORD}@`),
      NEWSLETTER_DEV_MODE: '0',
      NEWSLETTER_SECRET: SECRET,
      NEWSLETTER_ADMIN_TOKEN: ADMIN_TOKEN,
      DKIM_DOMAIN: 'example.org',
      DKIM_SELECTOR: 'test',
      DKIM_PRIVATE_KEY: DKIM_KEY,
      METRICS_FLUSH_MS: '100',
      LOG_LEVEL: 'debug',
    };
    const subscribers = await h.addSubscribers(10);
    const { spawned: web, url: base } = await processes.server(env);

    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } })).status).toBe(401);
    const before = await scrape(base);
    expect(messages(before, 'accepted', '2xx')).toBe(0);
    expect(before.get('newsletter_send_duration_seconds_count')).toBe(0);
    expect(before.get('newsletter_delivery_workers')).toBe(0);
    expect(before.has('process_resident_memory_bytes')).toBe(true);

    const worker = await processes.start(['bin/run-ts.js', 'workers/delivery-worker.ts'], env, /worker ready/);
    await h.send();
    await h.waitFor((c) => c.state === 'completed');
    // The worker is still running: these figures came with its periodic flush.
    const after = await scrapeUntil(base, (m) => messages(m, 'accepted', '2xx') === 9 && queued(m) === 0);
    const attempts = [...h.smtp.rcptAttempts.values()].reduce((a, b) => a + b, 0);
    expect(attempts).toBe(11);
    expect(messages(after, 'failed', '5xx')).toBe(1);
    expect(messages(after, 'deferred', '4xx')).toBe(1);
    expect(messages(after, 'skipped', 'none')).toBe(0);
    expect(after.get('newsletter_delivery_retries_total')).toBe(1);
    expect(after.get('newsletter_send_duration_seconds_count')).toBe(attempts);
    expect(after.get('newsletter_send_duration_seconds_bucket{le="+Inf"}')).toBe(attempts);
    expect(after.get('newsletter_send_duration_seconds_sum')).toBeGreaterThan(0);
    expect(after.get('newsletter_unsubscribes_total{how="bounce"}')).toBe(1);
    expect(after.get('newsletter_delivery_workers')).toBe(1);

    // A one-click unsubscribe on the web server: counted, and its suppression delay observed.
    const reader = subscribers.find((s) => s.email === 'r3@example.org')!;
    const token = createToken(SECRET, reader.id, 'unsubscribe');
    const unsubscribed = await fetch(`${base}/unsubscribe/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(unsubscribed.status).toBe(200);
    const afterUnsubscribe = await scrape(base);
    expect(afterUnsubscribe.get('newsletter_unsubscribes_total{how="one_click"}')).toBe(1);
    expect(afterUnsubscribe.get('newsletter_unsubscribe_suppression_seconds_count')).toBe(1);
    expect(afterUnsubscribe.get('newsletter_unsubscribe_suppression_seconds_bucket{le="+Inf"}')).toBe(1);
    expect(afterUnsubscribe.get('newsletter_unsubscribes_total{how="admin"}')).toBe(0);

    // An operator suppresses an address through the admin API: counted as `admin`, without a suppression delay.
    const complained = subscribers.find((s) => s.email === 'r4@example.org')!;
    const patched = await fetch(`${base}/api/subscribers/${complained.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'complained', reason: 'feedback loop report' }),
    });
    expect(patched.status).toBe(200);
    const afterAdmin = await scrape(base);
    expect(afterAdmin.get('newsletter_unsubscribes_total{how="admin"}')).toBe(1);
    expect(afterAdmin.get('newsletter_unsubscribe_suppression_seconds_count')).toBe(1);

    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await web.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    // Logs: JSON lines only, with campaign and job ids, and nothing that identifies or unlocks anything.
    const workerLines = jsonLines(worker.output());
    const webLines = jsonLines(web.output());
    const batches = workerLines.filter((l) => l.msg === 'batch finished');
    expect(batches.length).toBeGreaterThan(0);
    for (const line of batches) expect(line).toMatchObject({ campaignId: h.campaignId, jobId: expect.any(String), name: 'delivery-worker' });
    const failed = workerLines.find((l) => l.msg === 'delivery failed')!;
    expect(failed).toMatchObject({
      campaignId: h.campaignId,
      jobId: expect.any(String),
      subscriberId: subscribers[2]!.id,
      replyClass: '5xx',
      outcome: 'rejected',
      hardBounce: true,
    });
    expect(failed.reply).toMatch(/^550 5\.1\.1 <r\*\*\*@example\.org>/);
    expect(workerLines.find((l) => l.msg === 'delivery deferred: tried again later')).toMatchObject({ campaignId: h.campaignId, replyClass: '4xx' });
    expect(workerLines.find((l) => l.msg === 'batch has deferred deliveries: tried again with backoff')).toMatchObject({
      campaignId: h.campaignId,
      deferred: 1,
    });
    expect(workerLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['worker ready', 'worker stopped']));
    expect(webLines.find((l) => l.msg === 'unsubscribed')).toMatchObject({ subscriberId: reader.id, name: 'web' });
    const unsubscribeRequest = webLines.find((l) => (l.req as { method?: string } | undefined)?.method === 'POST');
    expect((unsubscribeRequest!.req as { url: string }).url).toBe('/unsubscribe/[redacted]');

    const everything = worker.output() + web.output();
    for (const { email } of subscribers) expect(everything).not.toContain(email);
    for (const secret of [token, SECRET, ADMIN_TOKEN, SMTP_PASSWORD, DKIM_KEY_BODY]) expect(everything).not.toContain(secret);
  }, 60_000);
});
