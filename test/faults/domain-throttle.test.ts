/**
 * Receiving domains set the pace (issue 14): a domain that throttles is paused for the whole
 * fleet while every other domain goes on at full speed, and a capped domain is held to its cap.
 * Real `newsletter worker` processes, a real SMTP server, a private Redis; figures at the server.
 */
import { describe, expect, it } from 'vitest';
import { campaignStatus, campaignDeps } from '../../src/operations/campaign-operations.ts';
import { spawnCli } from '../helpers/run-cli.ts';
import { audit, scenarioPerTest } from './fault-harness.ts';

const startScenario = scenarioPerTest();

const WINDOW_MS = 20_000;
const GMAIL_421 =
  '4.7.28 [127.0.0.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited.';

interface LogLine {
  time: string;
  msg: string;
  [field: string]: unknown;
}

function logLines(stdout: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

describe('fault: a receiving domain that throttles', () => {
  it('two workers, 2,000 recipients, half at a domain answering 421 4.7.28 for 20 s: the rest go at once, the domain waits for the fleet, then everyone once', async () => {
    // Every RCPT to the throttling domain, with the time the server saw it.
    const gmailRcpts: { at: number; throttled: boolean }[] = [];
    let windowStart: number | undefined;
    const s = await startScenario({
      recipients: 2_000,
      emailOf: (i) => (i % 2 === 0 ? `g${i}@gmail.example` : `r${i}@example.org`),
      faults: {
        onRcpt(address) {
          if (!address.endsWith('@gmail.example')) return undefined;
          const at = Date.now();
          windowStart ??= at;
          const throttled = at < windowStart + WINDOW_MS;
          gmailRcpts.push({ at, throttled });
          return throttled ? { code: 421, message: GMAIL_421 } : undefined;
        },
      },
      env: {
        // Few attempts: a throttle that spent them would fail the batches.
        SEND_ATTEMPTS: '3',
        DOMAIN_PAUSE_MS: '1000',
        DOMAIN_PAUSE_MAX_MS: '4000',
        DOMAIN_RAMP_STEP_MS: '500',
      },
    });
    const workers = [await s.processes.worker(s.env), await s.processes.worker(s.env)];
    const started = Date.now();
    const { id } = await s.harness.send();
    const deps = campaignDeps(s.harness.app);

    // Shown while paused: the admin API's and the CLI's status name the domain, until when, why, and who waits.
    const paused = await expect
      .poll(async () => (await campaignStatus(deps, id)).domains.find((d) => d.group === 'gmail.example' && d.state === 'paused' && d.waiting > 0), {
        timeout: 20_000,
        interval: 100,
      })
      .toBeDefined()
      .then(async () => (await campaignStatus(deps, id)).domains.find((d) => d.group === 'gmail.example'));
    expect(paused?.reason).toMatch(/^421 4\.7\.28 .*unusual rate/);
    await expect
      .poll(async () => (await spawnCli(['campaign', 'status', id], { env: s.env })).stdout, { timeout: 15_000, interval: 200 })
      .toMatch(
        /receiving domain gmail\.example: paused until \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ s more\), [1-9]\d* recipient\(s\) of this campaign waiting; it said: 421 4\.7\.28/,
      );

    const done = await s.harness.waitFor((c) => c.state === 'completed', 120_000);
    const finished = Date.now();
    const result = await audit(s, id);
    const windowEnd = windowStart! + WINDOW_MS;
    const ours = s.smtp.messages.filter((m) => m.messageId.startsWith(`${id}.`));
    const other = ours.filter((m) => m.to[0]!.endsWith('@example.org'));
    const gmail = ours.filter((m) => m.to[0]!.endsWith('@gmail.example'));

    // Pauses as the workers logged them, and the throttling domain's RCPTs during each (after a
    // second's grace for the messages in flight when the 421 came back).
    const lines = workers.map((w) => logLines(w.stdout()));
    const pauses = lines.flat().filter((l) => l.msg === 'receiving domain throttles: paused for the whole fleet');
    const duringPauses = pauses.flatMap((p) => {
      const from = Date.parse(p.time) + 1_000;
      const to = Date.parse(String(p.until));
      return gmailRcpts.filter((r) => r.at >= from && r.at < to);
    });
    const perWorker = lines.map((l) => ({
      pausesBegun: l.filter((x) => x.msg === 'receiving domain throttles: paused for the whole fleet').length,
      batchesWaited: l.filter((x) => x.msg === 'batch waits for receiving domains that asked us to slow down').length,
      throttledDeliveries: l.filter((x) => x.msg === 'delivery deferred: the receiving domain throttles').length,
    }));
    console.log(
      `domain throttle: other half done ${Math.max(...other.map((m) => m.receivedAt)) - started} ms after the send, window ${windowStart! - started}..${windowEnd - started} ms; ` +
        `gmail: ${gmailRcpts.filter((r) => r.throttled).length} RCPTs throttled, first accepted ${Math.min(...gmail.map((m) => m.receivedAt)) - started} ms, last ${Math.max(...gmail.map((m) => m.receivedAt)) - started} ms; ` +
        `${pauses.length} pauses (${pauses.map((p) => p.pauseMs).join(', ')} ms), ${duringPauses.length} RCPTs inside a pause; per worker ${JSON.stringify(perWorker)}; ` +
        `${ours.length} messages, ${new Set(ours.map((m) => m.messageId)).size} distinct Message-IDs; total ${finished - started} ms`,
    );

    expect(result.duplicates).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.foreign).toEqual([]);
    expect(new Set(ours.map((m) => m.messageId)).size).toBe(2_000);
    expect(ours).toHaveLength(2_000);
    expect(done).toMatchObject({ total: 2_000, accepted: 2_000, failed: 0, skipped: 0, deferred: 0 });
    // No batch failed for lack of attempts: throttled recipients and their batches spent none.
    expect(await s.harness.app.deliveryQueue().getJobCounts('failed')).toEqual({ failed: 0 });
    // The other half went at full speed while the domain was paused.
    expect(other).toHaveLength(1_000);
    expect(Math.max(...other.map((m) => m.receivedAt))).toBeLessThan(windowEnd);
    expect(Math.min(...gmail.map((m) => m.receivedAt))).toBeGreaterThanOrEqual(windowEnd);
    // The fleet paused, more than once (backoff through the window), and both workers honoured it.
    expect(pauses.length).toBeGreaterThanOrEqual(3);
    expect(duringPauses).toEqual([]);
    for (const worker of perWorker) expect(worker.batchesWaited).toBeGreaterThan(0);
    // The relay breaker counted none of it.
    expect((await s.harness.app.relay.read()).pauses).toBe(0);
  });

  it('holds a capped domain to its rate for two workers together, measured at the server, while another domain goes at its own pace', async () => {
    const CAP = 40;
    const CONNECTIONS = 3;
    const END_MS = 100;
    // RCPTs accepted for the domain capped in connections (its end answered 100 ms late), to count its messages in flight at the server.
    const fewRcpts: number[] = [];
    const s = await startScenario({
      recipients: 1_100,
      emailOf: (i) => (i >= 1_000 ? `s${i}@few.example` : i % 5 < 2 ? `c${i}@capped.example` : `f${i}@fast.example`),
      faults: {
        endDelayMs: (address) => (address.endsWith('@few.example') ? END_MS : undefined),
        onRcpt(address) {
          if (address.endsWith('@few.example')) fewRcpts.push(Date.now());
          return undefined;
        },
      },
      env: { DOMAIN_RATES: `capped.example=${CAP}`, DOMAIN_CONNECTIONS: `capped.example=4,few.example=${CONNECTIONS}` },
    });
    await Promise.all([s.processes.worker(s.env), s.processes.worker(s.env)]);
    const started = Date.now();
    const { id } = await s.harness.send();
    await s.harness.waitFor((c) => c.state === 'completed', 120_000);
    const result = await audit(s, id);
    const times = (domain: string) =>
      s.smtp.messages
        .filter((m) => m.to[0]!.endsWith(`@${domain}`))
        .map((m) => m.receivedAt)
        .sort((a, b) => a - b);
    const capped = times('capped.example');
    const fast = times('fast.example');
    // The steady window: the middle 80 % of the capped domain's messages.
    const steady = capped.slice(Math.floor(capped.length * 0.1), Math.ceil(capped.length * 0.9));
    const rate = (steady.length - 1) / ((steady.at(-1)! - steady[0]!) / 1000);
    const fastRate = (fast.length - 1) / ((fast.at(-1)! - fast[0]!) / 1000);
    // In flight at the server: RCPTs accepted minus messages whose end was answered, at each RCPT.
    const fewAnswered = times('few.example').map((t) => t + END_MS);
    const inFlight = Math.max(...fewRcpts.map((at) => fewRcpts.filter((t) => t <= at).length - fewAnswered.filter((t) => t < at).length));
    console.log(
      `domain caps: capped.example ${capped.length} messages at ${rate.toFixed(1)}/s over its steady window (cap ${CAP}/s), ` +
        `few.example at most ${inFlight} in flight at the server (cap ${CONNECTIONS}), ${fewAnswered.length} messages; ` +
        `fast.example ${fast.length} at ${fastRate.toFixed(0)}/s, done ${fast.at(-1)! - started} ms after the send (capped: ${capped.at(-1)! - started} ms)`,
    );
    expect(result.duplicates).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(capped).toHaveLength(400);
    expect(Math.abs(rate - CAP) / CAP).toBeLessThan(0.1);
    expect(fewAnswered).toHaveLength(100);
    expect(inFlight).toBeLessThanOrEqual(CONNECTIONS);
    expect(inFlight).toBeGreaterThanOrEqual(2);
    // The uncapped domain is not held back by the capped one's pace.
    expect(fast.at(-1)!).toBeLessThan(capped[Math.floor(capped.length / 2)]!);
  });
});
