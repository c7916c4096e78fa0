import { describe, expect, it } from 'vitest';
import { recipientLinks } from '../../src/delivery/recipient-links.ts';
import { signingSecrets } from '../../src/subscribers/signing-secrets.ts';
import { keySlot } from '../../src/redis/key-slot.ts';
import { startCluster, startSentinelSetup, type ClusterSetup, type SentinelSetup } from '../helpers/redis-topologies.ts';
import { ACCEPTED, audit, scenarioPerTest } from './fault-harness.ts';

const startScenario = scenarioPerTest<SentinelSetup>();
const startClusterScenario = scenarioPerTest<ClusterSetup>();

/** A fault's length, not a wait for something: how long the replica is cut off before the primary dies (under REDIS_WAIT_TIMEOUT_MS). */
const PARTITION_MS = 300;

describe('fault: the Redis primary fails over mid-campaign', () => {
  it('primary SIGKILLed while two workers send 5,000 recipients, Sentinel promotes the replica: the campaign completes, nobody gets it twice or not at all, every unsubscribe answered before the kill holds', async () => {
    const s = await startScenario({ recipients: 5_000, redis: () => startSentinelSetup(), env: { SEND_RATE_PER_SECOND: '400' } });
    const server = await s.processes.server(s.env);
    await s.processes.worker(s.env);
    await s.processes.worker(s.env);
    const config = s.harness.app.config;
    const links = recipientLinks(signingSecrets(config).current, server.url, config.identity);
    const { id } = await s.harness.send();

    await s.smtp.waitForMessages(1_500, 60_000);
    // One-click unsubscribes of recipients not reached yet, each answered by the web server: then the kill, at once.
    const leaving = s.subscribers.slice(-50);
    await Promise.all(
      leaving.map(async (sub) => {
        const response = await fetch(links(sub.id).unsubscribeUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        });
        expect(response.status).toBe(200);
        await response.text();
      }),
    );
    // The network between primary and replica starts losing packets, and the primary dies before
    // anyone notices: whatever the primary acknowledged meanwhile is lost at failover.
    s.redis.link.partition();
    const before = s.smtp.messages.length;
    await new Promise((resolve) => setTimeout(resolve, PARTITION_MS));
    const duringPartition = s.smtp.messages.length - before;
    await s.redis.primary.stop();
    const killedAt = Date.now();

    await expect.poll(() => s.redis.currentPrimaryPort(), { timeout: 30_000 }).toBe(s.redis.replica.port);
    const promotedMs = Date.now() - killedAt;
    const done = await s.harness.waitFor((c) => c.state === 'completed', 90_000);

    const gone = new Set(leaving.map((sub) => sub.email));
    const result = await audit(s, id, (sub) => (gone.has(sub.email) ? { ledger: /^skipped: subscriber unsubscribed$/, received: [0] } : ACCEPTED));
    console.log(
      `failover: link partitioned after ${before} messages (${duringPartition} more received before the kill), primary killed, replica promoted in ${promotedMs} ms; ledger ${JSON.stringify(result.ledgerCounts)}`,
    );
    if (result.duplicates.length + result.unexpectedCount > 0) console.log(JSON.stringify({ duplicates: result.duplicates, unexpected: result.unexpected }));
    expect(before).toBeLessThan(4_000);
    expect(result.duplicates).toEqual([]);
    expect(result.foreign).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(done).toMatchObject({ total: 5_000, accepted: 4_950, skipped: 50, failed: 0, deferred: 0 });
    // Workers and the web server rode through the failover rather than exited.
    expect(s.processes.running()).toBe(3);
  });

  it('on a Cluster, the master holding the campaign and the one holding the queue SIGKILLed in turn: their replicas are promoted, the campaign completes, nobody gets it twice or not at all', async () => {
    const s = await startClusterScenario({ recipients: 5_000, redis: () => startCluster(), env: { SEND_RATE_PER_SECOND: '400' } });
    await s.processes.worker(s.env);
    await s.processes.worker(s.env);
    const { app } = s.harness;
    const { id } = await s.harness.send();
    const leaving = s.subscribers.slice(-50);
    for (const sub of leaving) await app.subscribers.unsubscribe(sub.id, 'test: before the kill');

    await s.smtp.waitForMessages(1_500, 60_000);
    const campaignMaster = await s.redis.masterOf(keySlot(app.campaigns.keys(id).ledger));
    const queueMaster = await s.redis.masterOf(keySlot(`${s.harness.prefix}:{${s.harness.prefix}}:q`));
    const before = s.smtp.messages.length;
    await campaignMaster.stop();
    await expect.poll(async () => (await s.redis.masterOf(keySlot(app.campaigns.keys(id).ledger))).port, { timeout: 30_000 }).not.toBe(campaignMaster.port);
    if (queueMaster !== campaignMaster) {
      await s.smtp.waitForMessages(before + 1_000, 60_000);
      await queueMaster.stop();
    }
    const done = await s.harness.waitFor((c) => c.state === 'completed', 90_000);

    const gone = new Set(leaving.map((sub) => sub.email));
    const result = await audit(s, id, (sub) => (gone.has(sub.email) ? { ledger: /^skipped: subscriber unsubscribed$/, received: [0] } : ACCEPTED));
    console.log(
      `cluster failover: campaign's master killed after ${before} messages${queueMaster === campaignMaster ? ' (it held the queue too)' : ", then the queue's"}; ledger ${JSON.stringify(result.ledgerCounts)}`,
    );
    if (result.duplicates.length + result.unexpectedCount > 0) console.log(JSON.stringify({ duplicates: result.duplicates, unexpected: result.unexpected }));
    expect(result.duplicates).toEqual([]);
    expect(result.foreign).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(done).toMatchObject({ total: 5_000, accepted: 4_950, skipped: 50, failed: 0, deferred: 0 });
    expect(s.processes.running()).toBe(2);
  });
});
