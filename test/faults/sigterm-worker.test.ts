import { describe, expect, it } from 'vitest';
import { ACCEPTED, audit, scenarioPerTest } from './fault-harness.ts';

const startScenario = scenarioPerTest();

describe('fault: a worker stopped with SIGTERM while sending', () => {
  it('three SIGTERMs mid-send: each exits 0 with every message it sent recorded, and the restarted worker sends nothing twice', async () => {
    // One worker at a time, so what the server has is exactly what that worker sent.
    const s = await startScenario({ recipients: 1_500, faults: { defer: 0.05 }, env: { SEND_RATE_PER_SECOND: '200' } });
    const { app } = s.harness;
    let worker = await s.processes.worker(s.env);
    const { id } = await s.harness.send();
    const stops: { received: number; accepted: number; sending: number }[] = [];
    for (let i = 0; i < 3; i++) {
      await s.smtp.waitForMessages(250 * (i + 1), 60_000);
      expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      const campaign = await app.campaigns.require(id);
      stops.push({
        received: s.smtp.messages.length,
        accepted: campaign.accepted,
        sending: await app.redis.hlen(app.campaigns.keys(id).sending),
      });
      worker = await s.processes.worker(s.env);
    }
    const done = await s.harness.waitFor((c) => c.state === 'completed', 90_000);

    console.log(`sigterm: at each stop (received, recorded): ${stops.map((x) => `${x.received}/${x.accepted}`).join(', ')}`);
    for (const stop of stops) {
      // Nothing in flight was cut off: every message the server took is recorded, none left "sending".
      expect(stop).toEqual({ received: stop.accepted, accepted: stop.accepted, sending: 0 });
      expect(stop.accepted).toBeLessThan(1_500);
    }
    const result = await audit(s, id, () => ACCEPTED);
    expect(result.duplicates).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(done).toMatchObject({ total: 1_500, accepted: 1_500, failed: 0, skipped: 0, deferred: 0 });
  });
});
