/** A receiving domain that throttles, in one process: its recipients wait for its pause, spend no attempt, and arrive once. */
import { afterEach, describe, expect, it } from 'vitest';
import { countByRecipient, startHarness, type Harness } from '../helpers/delivery-harness.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('a receiving domain that throttles', () => {
  it('is paused while the other domain is delivered, then its recipients arrive once each, with one attempt per batch', async () => {
    let firstThrottle: number | undefined;
    const throttled: number[] = [];
    harness = await startHarness({
      env: { SEND_ATTEMPTS: '1', DOMAIN_PAUSE_MS: '300', DOMAIN_PAUSE_MAX_MS: '600', DOMAIN_RAMP_STEP_MS: '100' },
      onRcpt(address) {
        if (!address.endsWith('@gmail.example')) return undefined;
        const now = Date.now();
        firstThrottle ??= now;
        if (now > firstThrottle + 1_000) return undefined;
        throttled.push(now);
        return {
          code: 450,
          message: '4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.',
        };
      },
    });
    const subscribers = await harness.app.subscribers.addMany(
      Array.from({ length: 60 }, (_, i) => ({ email: i % 2 ? `g${i}@gmail.example` : `o${i}@example.org`, lists: ['weekly'] })),
    );
    await harness.send();
    harness.startWorker();
    const done = await harness.waitFor((c) => c.state === 'completed', 20_000);
    const counts = countByRecipient(harness.smtp);
    const gmail = harness.smtp.messages.filter((m) => m.to[0]!.endsWith('@gmail.example')).map((m) => m.receivedAt);
    const other = harness.smtp.messages.filter((m) => m.to[0]!.endsWith('@example.org')).map((m) => m.receivedAt);
    expect(done).toMatchObject({ total: 60, accepted: 60, failed: 0, deferred: 0 });
    expect(subscribers.map((s) => counts.get(s.subscriber.email))).toEqual(Array(60).fill(1));
    expect(throttled.length).toBeGreaterThan(0);
    // Everyone else was delivered during the first pause; the throttled domain only once it answered again.
    expect(Math.max(...other)).toBeLessThan(firstThrottle! + 1_000);
    expect(Math.min(...gmail)).toBeGreaterThan(firstThrottle! + 1_000);
    expect((await harness.app.relay.read()).pauses).toBe(0);
  });
});
