import { describe, expect, it } from 'vitest';
import { scenarioPerTest } from '../faults/fault-harness.ts';
import { startCluster, type ClusterSetup } from '../helpers/redis-topologies.ts';
import { everydayCampaign } from './topology-scenario.ts';

const startScenario = scenarioPerTest<ClusterSetup>();

describe('on Redis Cluster (3 primaries, 3 replicas)', () => {
  it('imports, sends through two workers, honours unsubscribes mid-send, pauses and resumes, as on one Redis', async () => {
    const s = await startScenario({ recipients: 0, redis: () => startCluster(), env: { SEND_RATE_PER_SECOND: '200' } });
    expect(s.env.REDIS_URL).toMatch(/^redis\+cluster:\/\//);
    await everydayCampaign(s, 600);
  }, 120_000);
});
