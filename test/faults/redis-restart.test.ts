import { describe, expect, it } from 'vitest';
import { ACCEPTED, audit, scenarioPerTest } from './fault-harness.ts';

const startScenario = scenarioPerTest();

describe('fault: Redis restarted mid-campaign', () => {
  it('redis-server killed and started again on its AOF while two workers send: the campaign completes, each recipient accepted once', async () => {
    const s = await startScenario({ recipients: 2_000, faults: { defer: 0.05 }, env: { SEND_RATE_PER_SECOND: '250' } });
    await s.processes.worker(s.env);
    await s.processes.worker(s.env);
    const { id } = await s.harness.send();

    await s.smtp.waitForMessages(600, 60_000);
    const before = s.smtp.messages.length;
    await s.redis.restart(1_000);
    const done = await s.harness.waitFor((c) => c.state === 'completed', 120_000);

    const result = await audit(s, id, () => ACCEPTED);
    console.log(`redis restart after ${before} messages; ledger ${JSON.stringify(result.ledgerCounts)}`);
    expect(before).toBeLessThan(1_500);
    expect(result.duplicates).toEqual([]);
    expect(result.foreign).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(done).toMatchObject({ total: 2_000, accepted: 2_000, failed: 0, skipped: 0, deferred: 0 });
    // The workers survived the outage (they reconnected rather than exited).
    expect(s.processes.running()).toBe(2);
  });
});
