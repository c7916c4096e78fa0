import { describe, expect, it } from 'vitest';
import { cancelCampaign, pauseCampaign, resumeCampaign } from '../../src/campaign/campaign-controls.ts';
import { IDLE } from '../helpers/delivery-harness.ts';
import { runCli } from '../helpers/run-cli.ts';
import { ACCEPTED, audit, scenarioPerTest, type FaultScenario } from './fault-harness.ts';
import { faultClass } from './fault-smtp.ts';

const startScenario = scenarioPerTest();

/** The same calls `newsletter campaign pause|resume|cancel` make. */
const controls = (s: FaultScenario) => ({ campaigns: s.harness.app.campaigns, queue: s.harness.app.deliveryQueue(), now: () => new Date() });

/** Each worker has at most WORKER_CONCURRENCY messages past their last check. */
const inFlightBound = (s: FaultScenario, workers: number) => workers * Number(s.env.WORKER_CONCURRENCY);

/** Nothing is being sent: no batch runs or waits to run (the rest are parked or backing off), and no recipient is marked as being sent to. */
async function quiet(s: FaultScenario, id: string): Promise<boolean> {
  const { active, waiting, prioritized } = await s.harness.batches();
  return active + waiting + prioritized === 0 && (await s.harness.app.redis.hlen(s.harness.app.campaigns.keys(id).sending)) === 0;
}

/** Every batch still to run was taken by a worker since `since` and parked again: each one saw the pause and sent nothing. */
async function allParkedSince(s: FaultScenario, since: number): Promise<boolean> {
  const queue = s.harness.app.deliveryQueue();
  const { active, waiting, prioritized } = await s.harness.batches();
  const parked = await queue.getJobs(['delayed']);
  return active + waiting + prioritized === 0 && parked.length > 0 && parked.every((job) => (job.processedOn ?? 0) >= since);
}

describe('fault: pause, resume, cancel and resend under load', () => {
  it('paused during heavy sending, both workers replaced while paused, resumed: nothing more is sent while paused, and everyone gets it once', async () => {
    const s = await startScenario({ recipients: 2_000, faults: { defer: 0.05 } });
    const workers = [await s.processes.worker(s.env), await s.processes.worker(s.env)];
    const { id } = await s.harness.send();
    await s.smtp.waitForMessages(400, 60_000);
    await pauseCampaign(controls(s), id);
    const pausedAt = Date.now();
    // The messages in flight land and are recorded; then nothing runs.
    await expect.poll(() => quiet(s, id), { timeout: 30_000 }).toBe(true);
    const settledWhilePaused = s.smtp.messages.length;
    expect((await s.harness.app.campaigns.require(id)).accepted).toBe(settledWhilePaused);
    // One worker stops gracefully, the other dies; two new ones take over.
    expect(await workers[0]!.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await workers[1]!.stop('SIGKILL');
    await s.processes.worker(s.env);
    await s.processes.worker(s.env);
    // What would send instead of parking: the new workers taking up every batch left (parked ones wake every 5 s).
    const replacedAt = Date.now();
    await expect.poll(() => allParkedSince(s, replacedAt), { timeout: 30_000 }).toBe(true);
    const paused = await s.harness.app.campaigns.require(id);
    expect(paused.state).toBe('paused');
    // Only messages already past their check when the pause was answered went out.
    const startedAfterPause = s.smtp.messages.filter((m) => m.dataStartedAt >= pausedAt);
    expect(startedAfterPause.length).toBeLessThanOrEqual(inFlightBound(s, 2));
    expect(s.smtp.messages.length).toBe(settledWhilePaused);
    expect(paused.accepted).toBeLessThan(2_000);

    await resumeCampaign(controls(s), id);
    const done = await s.harness.waitFor((c) => c.state === 'completed', 90_000);
    const result = await audit(s, id, () => ACCEPTED);
    console.log(`pause: ${settledWhilePaused} received before the pause settled, ${startedAfterPause.length} began after it was answered`);
    expect(result.duplicates).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(done).toMatchObject({ total: 2_000, accepted: 2_000, failed: 0, skipped: 0, deferred: 0 });
  });

  it('cancelled mid-campaign: the rest are skipped as "campaign cancelled", no new message begins, counters add up', async () => {
    const s = await startScenario({ recipients: 2_000 });
    await s.processes.worker(s.env);
    await s.processes.worker(s.env);
    const { id } = await s.harness.send();
    await s.smtp.waitForMessages(500, 60_000);
    await cancelCampaign(controls(s), id);
    const cancelledAt = Date.now();
    const done = await s.harness.waitFor((c) => c.accepted + c.failed + c.skipped === c.total, 60_000);
    // Everyone is settled; a message sent late (twice, or after the cancel) would arrive while batches still run.
    await expect.poll(() => s.harness.batches(), { timeout: 30_000 }).toEqual(IDLE);

    const received = new Set(s.smtp.messages.map((m) => m.to[0]));
    const result = await audit(s, id, (sub) => (received.has(sub.email) ? ACCEPTED : { ledger: /^skipped: campaign cancelled$/, received: [0] }));
    const startedAfterCancel = s.smtp.messages.filter((m) => m.dataStartedAt >= cancelledAt);
    console.log(`cancel: ${done.accepted} accepted, ${done.skipped} skipped; ${startedAfterCancel.length} began after the cancel was answered`);
    expect(startedAfterCancel.length).toBeLessThanOrEqual(inFlightBound(s, 2));
    expect(result.duplicates).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(done.state).toBe('cancelled');
    expect(done).toMatchObject({ total: 2_000, accepted: received.size, skipped: 2_000 - received.size, failed: 0 });
    expect(done.skipped).toBeGreaterThan(500);
  });

  it('`newsletter campaign resend --failed` after a partly failed campaign: only the failed are sent again, once, except who unsubscribed since', async () => {
    // 5% refused for policy on their first attempt only: permanent then, fixed by the next round.
    const rejectReply = { code: 554, message: '5.7.1 Message rejected by policy' };
    const s = await startScenario({ recipients: 1_000, faults: { reject: 0.05, rejectAttempts: 1, rejectReply, defer: 0.05 } });
    await s.processes.worker(s.env);
    await s.processes.worker(s.env);
    const { id } = await s.harness.send();
    const first = await s.harness.waitFor((c) => c.state === 'completed', 60_000);
    const refused = s.subscribers.filter((sub) => faultClass(s.smtp.rates, sub.email) === 'reject');
    expect(first).toMatchObject({ total: 1_000, accepted: 1_000 - refused.length, failed: refused.length });
    const gone = refused.slice(0, 3);
    for (const sub of gone) await s.harness.app.subscribers.unsubscribe(sub.id, 'test');

    const resend = await runCli(['campaign', 'resend', id, '--failed', '--json'], { env: s.env });
    expect(resend.code, resend.stderr).toBe(0);
    expect(JSON.parse(resend.stdout)).toEqual({ round: 1, recipients: refused.length, unknownLeftOut: 0 });
    const done = await s.harness.waitFor((c) => c.state === 'completed', 60_000);

    const unsubscribed = new Set(gone.map((sub) => sub.email));
    const result = await audit(s, id, (sub) => (unsubscribed.has(sub.email) ? { ledger: /^skipped: subscriber unsubscribed$/, received: [0] } : ACCEPTED));
    expect(refused.length).toBeGreaterThan(20);
    expect(result.duplicates).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(done).toMatchObject({ total: 1_000, accepted: 1_000 - gone.length, failed: 0, skipped: gone.length, resendRounds: 1 });
  });
});
