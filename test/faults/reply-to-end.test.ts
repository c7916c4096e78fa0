import { describe, expect, it } from 'vitest';
import { ACCEPTED, audit, scenarioPerTest, unconfirmedRecipients } from './fault-harness.ts';
import { faultClass } from './fault-smtp.ts';

const startScenario = scenarioPerTest();

describe('fault: the reply to the end of the message comes late or not at all', () => {
  it('300 recipients, ~10 % answered 4 s after the end with SMTP_TIMEOUT_MS=3000, ~10 % dropped after the end: no copy twice, each accepted once or failed, outcome unknown', async () => {
    const s = await startScenario({ recipients: 300, faults: { slowEnd: 0.1, dropAfterEnd: 0.1 }, env: { SMTP_TIMEOUT_MS: '3000' } });
    await s.processes.worker(s.env);
    await s.processes.worker(s.env);
    const { id } = await s.harness.send();
    const done = await s.harness.waitFor((c) => c.state === 'completed', 150_000);

    const classes = new Map(s.subscribers.map((sub) => [sub.email, faultClass(s.smtp.rates, sub.email)]));
    const count = (fault: string) => [...classes.values()].filter((c) => c === fault).length;
    const dropped = s.subscribers.filter((sub) => classes.get(sub.email) === 'dropAfterEnd');
    // The server took every message whose connection dropped after the end: received once, never sent again.
    const result = await audit(s, id, (sub) =>
      classes.get(sub.email) === 'dropAfterEnd' ? { ledger: /^failed: outcome unknown: /, received: [1] } : ACCEPTED,
    );
    const ours = s.smtp.messages.filter((m) => m.messageId.startsWith(`${id}.`));
    const extraCopies = ours.length - new Set(ours.map((m) => m.messageId)).size;
    console.log(
      `reply to the end: ${count('slowEnd')} answered after 4 s, ${count('dropAfterEnd')} dropped after the end; ` +
        `${ours.length} messages received, ${extraCopies} extra copies; ledger ${JSON.stringify(result.ledgerCounts)}`,
    );
    expect(count('slowEnd')).toBeGreaterThan(15);
    expect(count('dropAfterEnd')).toBeGreaterThan(15);
    expect(extraCopies).toBe(0);
    expect(result.duplicates).toEqual([]);
    expect(result.foreign).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(done).toMatchObject({ total: 300, accepted: 300 - dropped.length, failed: dropped.length, skipped: 0, deferred: 0 });
    expect(done.accepted + done.failed + done.skipped).toBe(done.total);
    // Every slow one was answered on its first attempt; `campaign failures` lists exactly the dropped ones.
    for (const sub of s.subscribers) {
      if (classes.get(sub.email) !== undefined) expect(s.smtp.rcptAttempts.get(sub.email), sub.email).toBe(1);
    }
    const unconfirmed = await unconfirmedRecipients(s, id);
    expect(unconfirmed.map((u) => u.email).sort()).toEqual(dropped.map((d) => d.email).sort());
    expect(unconfirmed.every((u) => u.received)).toBe(true);
  });
});
