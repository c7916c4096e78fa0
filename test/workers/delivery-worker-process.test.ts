import { afterEach, describe, expect, it } from 'vitest';
import { countByRecipient, startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { processesPerTest } from '../helpers/processes.ts';

const processes = processesPerTest();
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('worker processes', () => {
  it('a worker killed with SIGKILL mid-send leaves nothing lost and nothing doubled', async () => {
    let released = false;
    // After 100 messages the server stops answering DATA: the worker is killed with messages
    // in flight that the server never accepted, and every accepted one had time to be recorded.
    const h: Harness = (harness = await startHarness({ script: { holdData: () => !released && h.smtp.messages.length >= 100 } }));
    const subscribers = await h.addSubscribers(300);
    const worker = await processes.start(['bin/run-ts.js', 'test/workers/short-lock-delivery-worker.ts'], h.env, /ready/);
    await h.send();
    await h.smtp.waitForMessages(100);
    // The ledger has every message the server accepted; the next ones are held in DATA.
    await expect.poll(async () => (await h.app.campaigns.require(h.campaignId)).accepted).toBe(100);
    expect(await worker.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const atKill = await h.app.campaigns.require(h.campaignId);
    expect(atKill.accepted).toBe(100);
    expect(atKill.state).toBe('running');

    released = true;
    h.startWorker({ lockDurationMs: 1_000, stalledIntervalMs: 300 });
    const done = await h.waitFor((c) => c.state === 'completed', 20_000);
    // The messages the server took in full but never answered (one per pooled connection) are
    // unconfirmed: the worker died after their last byte, so they may have arrived. At most once
    // wins: they are recorded as failed with that reason, not sent again.
    const unconfirmed = new Set(
      (await h.app.campaigns.allFailures(h.campaignId)).map((f) => {
        expect(f.reply).toMatch(/^outcome unknown: /);
        return f.subscriberId;
      }),
    );
    expect(unconfirmed.size).toBe(done.failed);
    expect(done.failed).toBeLessThanOrEqual(Number(h.env.SMTP_MAX_CONNECTIONS));
    expect(done).toMatchObject({ total: 300, accepted: 300 - done.failed, skipped: 0 });
    expect(h.smtp.messages).toHaveLength(300 - done.failed);
    const counts = countByRecipient(h.smtp);
    for (const { id, email } of subscribers) expect(counts.get(email) ?? 0, email).toBe(unconfirmed.has(id) ? 0 : 1);
  });

  it('SIGTERM: `newsletter worker` finishes what is in flight, exits 0, and another worker completes the campaign', async () => {
    const h = (harness = await startHarness({ env: { SEND_RATE_PER_SECOND: '100' } }));
    const subscribers = await h.addSubscribers(150);
    const worker = await processes.worker(h.env);
    await h.send();
    await h.smtp.waitForMessages(10);
    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const afterStop = await h.app.campaigns.require(h.campaignId);
    // Every message the server accepted was recorded before the worker exited.
    expect(afterStop.accepted).toBe(h.smtp.messages.length);
    expect(afterStop.accepted).toBeLessThan(150);

    h.startWorker();
    const done = await h.waitFor((c) => c.state === 'completed', 20_000);
    expect(done).toMatchObject({ total: 150, accepted: 150 });
    const counts = countByRecipient(h.smtp);
    for (const { email } of subscribers) expect(counts.get(email), email).toBe(1);
  });
});
