import { describe, expect, it } from 'vitest';
import { ACCEPTED, audit, scenarioPerTest } from './fault-harness.ts';
import { faultClass } from './fault-smtp.ts';

const startScenario = scenarioPerTest();

describe('fault: a misbehaving SMTP server', () => {
  it('~10% deferred, ~1% cut mid-DATA, ~1% rejected, and the server down for 20 s mid-campaign: each recipient ends as planned, once', async () => {
    const s = await startScenario({ recipients: 2_000, faults: { defer: 0.1, drop: 0.01, reject: 0.01 } });
    await s.processes.worker(s.env);
    await s.processes.worker(s.env);
    const { id } = await s.harness.send();

    await s.smtp.waitForMessages(500, 60_000);
    await s.smtp.outage(20_000);
    // 12 attempts from 100 ms outlast the outage; the last backoff can be ~20 s long.
    const done = await s.harness.waitFor((c) => c.state === 'completed', 120_000);

    const classes = new Map(s.subscribers.map((sub) => [sub.email, faultClass(s.smtp.rates, sub.email)]));
    const rejected = s.subscribers.filter((sub) => classes.get(sub.email) === 'reject');
    const result = await audit(s, id, (sub) => (classes.get(sub.email) === 'reject' ? { ledger: /^failed: 550 5\.1\.1 /, received: [0] } : ACCEPTED));
    const count = (fault: string) => [...classes.values()].filter((c) => c === fault).length;
    console.log(
      `smtp faults: ${count('defer')} deferred, ${count('drop')} cut mid-DATA, ${count('reject')} rejected; ledger ${JSON.stringify(result.ledgerCounts)}; outage ${s.smtp.outages.map((o) => o.to - o.from).join(', ')} ms`,
    );
    expect(count('defer')).toBeGreaterThan(100);
    expect(count('drop')).toBeGreaterThan(5);
    expect(count('reject')).toBeGreaterThan(5);
    expect(result.duplicates).toEqual([]);
    expect(result.foreign).toEqual([]);
    // A connection cut once the end of its message was written (the outage, or a cut mid-DATA that
    // the end overtook) leaves the client unable to tell whether the server took it: failed,
    // outcome unknown, never sent again. At most one per pooled connection at the outage, and the cut ones.
    const unknown = result.unexpected.filter((u) => /^failed: outcome unknown: /.test(u.ledger ?? '') && u.received <= 1);
    expect(result.unexpected).toEqual(unknown);
    expect(result.unexpectedCount).toBe(unknown.length);
    expect(unknown.length).toBeLessThanOrEqual(2 * Number(s.env.SMTP_MAX_CONNECTIONS) + count('drop'));
    expect(done).toMatchObject({
      total: 2_000,
      accepted: 2_000 - rejected.length - unknown.length,
      failed: rejected.length + unknown.length,
      skipped: 0,
      deferred: 0,
    });
    // The faults did happen: every deferred or cut address was tried again, and hard bounces are suppressed.
    for (const sub of s.subscribers) {
      const fault = classes.get(sub.email);
      if ((fault === 'defer' || fault === 'drop') && !unknown.some((u) => u.email === sub.email)) {
        expect(s.smtp.rcptAttempts.get(sub.email), sub.email).toBeGreaterThanOrEqual(2);
      }
    }
    const statuses = await s.harness.app.subscribers.getMany(rejected.map((r) => r.id));
    expect(statuses.map((r) => r.status)).toEqual(rejected.map(() => 'bounced'));
    // Messages went out before and after the outage, none while it lasted.
    const [outage] = s.smtp.outages;
    const during = s.smtp.messages.filter((m) => m.receivedAt > outage!.from && m.dataStartedAt < outage!.to);
    expect(during).toEqual([]);
    expect(s.smtp.messages.some((m) => m.receivedAt > outage!.to)).toBe(true);
  });
});
