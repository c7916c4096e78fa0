import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { audit, scenarioPerTest, unconfirmedRecipients } from './fault-harness.ts';

const startScenario = scenarioPerTest();

describe('fault: worker processes killed with SIGKILL', () => {
  it('one of two workers killed every ~2 s during a 5,000-recipient campaign: nobody gets it twice; each recipient is accepted once or reported unconfirmed', async () => {
    // 200 messages a second for the fleet: the campaign lasts ~25 s, long enough for ~10 kills.
    const s = await startScenario({ recipients: 5_000, env: { SEND_RATE_PER_SECOND: '200' } });
    const workers = [await s.processes.worker(s.env), await s.processes.worker(s.env)];
    const { id } = await s.harness.send();

    let finished = false;
    let kills = 0;
    const killer = (async () => {
      for (let turn = 0; !finished; turn++) {
        await sleep(2_000);
        if (finished) break;
        // Alternate, so both processes die mid-batch at some point; the other keeps sending meanwhile.
        const slot = turn % 2;
        await workers[slot]!.stop('SIGKILL');
        kills++;
        workers[slot] = await s.processes.worker(s.env);
      }
    })();
    const done = await s.harness.waitFor((c) => c.state === 'completed', 170_000).finally(() => (finished = true));
    await killer;

    // A kill can land after a message's last byte went out and before its reply was recorded.
    // Such a recipient is "unconfirmed": recorded as failed, "outcome unknown", never sent again,
    // and the server may or may not have it. Everyone else is accepted and received exactly once.
    const result = await audit(s, id, () => ({ ledger: /^(accepted|failed: outcome unknown: .*)$/, received: [0, 1] }));
    const unconfirmed = await unconfirmedRecipients(s, id);
    console.log(
      `sigkill: ${kills} kills, ledger ${JSON.stringify(result.ledgerCounts)}, ${unconfirmed.length} unconfirmed (${unconfirmed.filter((u) => u.received).length} of them had arrived)`,
    );
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(result.duplicates).toEqual([]);
    expect(result.foreign).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.ledgerCounts.accepted ?? 0).toBe(s.smtp.messages.length - unconfirmed.filter((u) => u.received).length);
    // Each killed worker had at most one message per pooled SMTP connection between its last byte and the reply.
    expect(unconfirmed.length).toBeLessThanOrEqual(kills * Number(s.env.SMTP_MAX_CONNECTIONS));
    expect(done).toMatchObject({ total: 5_000, accepted: 5_000 - unconfirmed.length, failed: unconfirmed.length, skipped: 0, deferred: 0 });
  });
});
