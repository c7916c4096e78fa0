import { describe, expect, it } from 'vitest';
import { scenarioPerTest } from '../faults/fault-harness.ts';
import { IDLE } from '../helpers/delivery-harness.ts';
import { ask, startSentinelSetup, type SentinelSetup } from '../helpers/redis-topologies.ts';
import { everydayCampaign } from './topology-scenario.ts';

const startScenario = scenarioPerTest<SentinelSetup>();

describe('on Redis Sentinel (1 primary, 1 replica, 3 sentinels)', () => {
  it('imports, sends through two workers, honours unsubscribes mid-send, pauses and resumes, as on one Redis', async () => {
    const s = await startScenario({ recipients: 0, redis: () => startSentinelSetup(), env: { SEND_RATE_PER_SECOND: '200' } });
    expect(s.env.REDIS_URL).toMatch(/^redis\+sentinel:\/\//);
    await everydayCampaign(s, 600);
    // Every outcome waited for the replica before its batch finished: once no batch runs, the
    // replica holds the whole ledger, not most of it. (The campaign reads "completed" on the
    // primary as soon as the last outcome is written, before that write's WAIT has returned.)
    await expect.poll(() => s.harness.batches(), { timeout: 30_000 }).toEqual(IDLE);
    const { ledger } = s.harness.app.campaigns.keys(s.harness.campaignId);
    expect(await ask(s.redis.replica.port, 'HLEN', ledger)).toBe(600);
  }, 120_000);
});
