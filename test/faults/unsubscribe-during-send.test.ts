import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { recipientLinks } from '../../src/delivery/recipient-links.ts';
import { signingSecrets } from '../../src/subscribers/signing-secrets.ts';
import { ACCEPTED, audit, scenarioPerTest } from './fault-harness.ts';

const startScenario = scenarioPerTest();

describe('fault: unsubscribes arriving during a campaign', () => {
  it('one-click unsubscribes POSTed to the web server while two workers send: nobody gets the issue after their unsubscribe was answered', async () => {
    const s = await startScenario({ recipients: 2_000, env: { SEND_RATE_PER_SECOND: '250' } });
    const server = await s.processes.server(s.env);
    await s.processes.worker(s.env);
    await s.processes.worker(s.env);
    const config = s.harness.app.config;
    // The link each message carries, pointed at the local server instead of PUBLIC_URL.
    const links = recipientLinks(signingSecrets(config).current, server.url, config.identity);
    const index = new Map(s.subscribers.map((sub, i) => [sub.email, i]));
    const { id } = await s.harness.send();

    // Aim at the recipients about to be sent to: the ones near the newest message's address.
    const answeredAt = new Map<string, number>();
    let done = false;
    const finished = s.harness.waitFor((c) => c.state === 'completed', 120_000).finally(() => (done = true));
    const unsubscribeOne = async (sub: { id: string; email: string }) => {
      const response = await fetch(links(sub.id).unsubscribeUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(response.status).toBe(200);
      await response.text();
      answeredAt.set(sub.email, Date.now());
    };
    await s.smtp.waitForMessages(100, 60_000);
    for (let round = 0; !done && answeredAt.size < 400; round++) {
      const newest = s.smtp.messages.at(-1)!.to[0]!;
      const from = index.get(newest)! + 1 + (round % 7);
      const targets = [0, 9, 23, 41].map((k) => s.subscribers[from + k]).filter((sub) => sub && !answeredAt.has(sub.email));
      await Promise.all(targets.map((sub) => unsubscribeOne(sub!)));
      await sleep(20);
    }
    const final = await finished;

    const unsubscribed = new Set(answeredAt.keys());
    // A message whose DATA had begun when the unsubscribe was answered may still arrive (a
    // transaction under way cannot be called back); none may begin after the answer.
    const afterAnswer = s.smtp.messages.filter((m) => unsubscribed.has(m.to[0]!) && m.receivedAt >= answeredAt.get(m.to[0]!)!);
    const late = afterAnswer
      .filter((m) => m.dataStartedAt >= answeredAt.get(m.to[0]!)!)
      .map((m) => ({ to: m.to[0], dataStartedMsAfterAnswer: m.dataStartedAt - answeredAt.get(m.to[0]!)! }));
    const result = await audit(s, id, (sub) =>
      unsubscribed.has(sub.email) ? { ledger: /^(accepted|skipped: subscriber unsubscribed)$/, received: [0, 1] } : ACCEPTED,
    );
    const skipped = result.ledgerCounts.skipped ?? 0;
    console.log(
      `unsubscribes: ${unsubscribed.size} answered during the send, ${skipped} skipped, ${unsubscribed.size - skipped} sent before (${afterAnswer.length} of them finishing after the answer)`,
    );
    expect(unsubscribed.size).toBeGreaterThan(100);
    expect(late).toEqual([]);
    expect(result.duplicates).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(skipped).toBeGreaterThan(50);
    expect(final).toMatchObject({ total: 2_000, accepted: 2_000 - skipped, skipped, failed: 0 });
    const statuses = await s.harness.app.subscribers.getMany(s.subscribers.filter((sub) => unsubscribed.has(sub.email)).map((sub) => sub.id));
    expect(new Set(statuses.map((sub) => sub.status))).toEqual(new Set(['unsubscribed']));
    await server.spawned.stop('SIGTERM');
  });
});
