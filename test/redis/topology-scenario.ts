/**
 * What every deployment must do as one Redis does: a CSV import through the CLI, a campaign
 * sent by two worker processes, unsubscribes answered mid-send, a pause and a resume; then
 * each recipient audited at the SMTP server by Message-ID.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { pauseCampaign, resumeCampaign } from '../../src/campaign/campaign-controls.ts';
import { ACCEPTED, audit, type FaultScenario, type ScenarioRedis } from '../faults/fault-harness.ts';
import { runCli } from '../helpers/run-cli.ts';

/** Imports `count` subscribers to the list "weekly" through `newsletter subscribers import`, and adds them to the scenario's recipients. */
export async function importThroughCli(s: FaultScenario<ScenarioRedis>, count: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'newsletter-import-'));
  try {
    const file = join(dir, 'subscribers.csv');
    writeFileSync(file, ['email,name', ...Array.from({ length: count }, (_, i) => `r${i}@example.org,Reader ${i}`)].join('\n'));
    const result = await runCli(['subscribers', 'import', file, '--list', 'weekly', '--json'], { env: s.env });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ imported: count, rejectedTotal: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for await (const page of s.harness.app.subscribers.iterateSubscribers('weekly')) s.subscribers.push(...page.map(({ id, email }) => ({ id, email })));
  expect(s.subscribers).toHaveLength(count);
}

export async function everydayCampaign(s: FaultScenario<ScenarioRedis>, recipients: number): Promise<void> {
  const { app } = s.harness;
  await importThroughCli(s, recipients);
  await s.processes.worker(s.env);
  await s.processes.worker(s.env);
  const { id } = await s.harness.send();
  await s.smtp.waitForMessages(100, 60_000);

  // The last recipients in join order are sent to last: unsubscribe them now.
  const unsubscribed = s.subscribers.slice(-20);
  for (const sub of unsubscribed) expect((await app.subscribers.unsubscribe(sub.id, 'test: mid-send')).changed).toBe(true);

  const controls = { campaigns: app.campaigns, queue: app.deliveryQueue(), now: () => new Date() };
  await pauseCampaign(controls, id);
  await expect
    .poll(
      async () => {
        const { active, waiting, prioritized } = await s.harness.batches();
        return active + waiting + prioritized === 0 && (await app.redis.hlen(app.campaigns.keys(id).sending)) === 0;
      },
      { timeout: 30_000 },
    )
    .toBe(true);
  const whilePaused = s.smtp.messages.length;
  expect((await app.campaigns.require(id)).state).toBe('paused');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(s.smtp.messages.length).toBe(whilePaused);
  expect(whilePaused).toBeLessThan(recipients - unsubscribed.length);

  await resumeCampaign(controls, id);
  const done = await s.harness.waitFor((c) => c.state === 'completed', 90_000);
  const gone = new Set(unsubscribed.map((sub) => sub.email));
  const result = await audit(s, id, (sub) => (gone.has(sub.email) ? { ledger: /^skipped: subscriber unsubscribed$/, received: [0] } : ACCEPTED));
  expect(result.duplicates).toEqual([]);
  expect(result.foreign).toEqual([]);
  expect(result.unexpected).toEqual([]);
  expect(done).toMatchObject({ total: recipients, accepted: recipients - unsubscribed.length, skipped: unsubscribed.length, failed: 0 });
}
