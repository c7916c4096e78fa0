import { describe, expect, it } from 'vitest';
import { audit, scenarioPerTest } from './fault-harness.ts';

const startScenario = scenarioPerTest();

describe('fault: a worker that stalls past its batch lock (GC pause, frozen VM, SIGSTOP) and then resumes', () => {
  it('frozen mid-batch while another worker finishes that batch: when it resumes it sends none of the messages it had started', async () => {
    // Slow enough (20 a second) that the frozen worker holds messages it has checked and is
    // about to send; its lock (1 s) runs out long before its SMTP timeout (30 s), as a long GC
    // pause does with the defaults (30 s lock, 60 s timeout).
    const s = await startScenario({ recipients: 100, env: { SEND_RATE_PER_SECOND: '20', WORKER_LOCK_MS: '1000', SMTP_TIMEOUT_MS: '30000' } });
    const frozen = await s.processes.worker(s.env);
    const { id } = await s.harness.send();
    await s.smtp.waitForMessages(10, 30_000);
    frozen.proc.kill('SIGSTOP');

    // Another worker finds the batch's lock gone, takes it, and finishes the campaign alone.
    await s.processes.worker(s.env);
    const done = await s.harness.waitFor((c) => c.state === 'completed', 60_000);
    const sentWhileFrozen = s.smtp.messages.length;

    // The frozen worker wakes with its own messages still in hand: it must send none of them.
    frozen.proc.kill('SIGCONT');
    // Its batch then ends, in a worker that no longer holds it: what would have been sent is in.
    await expect.poll(() => frozen.stdout(), { timeout: 30_000 }).toMatch(/batch lock lost|Missing (?:key|lock) for job/);
    // A message whose end the frozen worker had already sent is "outcome unknown" for the
    // other worker, and accepted again once its sender wakes and records the reply.
    const result = await audit(s, id, () => ({ ledger: /^(accepted|failed: outcome unknown: .*)$/, received: [1] }));
    const final = await s.harness.app.campaigns.require(id);
    console.log(`stalled worker: ${sentWhileFrozen} messages before it woke, ${s.smtp.messages.length} after; ledger ${JSON.stringify(result.ledgerCounts)}`);
    expect(result.duplicates).toEqual([]);
    expect(result.foreign).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(s.smtp.messages).toHaveLength(100);
    expect(done.accepted + done.failed).toBe(100);
    expect(final).toMatchObject({ total: 100, skipped: 0 });
    expect(final.accepted + final.failed).toBe(100);
    expect(final.failed).toBeLessThanOrEqual(Number(s.env.SMTP_MAX_CONNECTIONS));
    expect(frozen.alive()).toBe(true);
  });
});
