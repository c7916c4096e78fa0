/**
 * Credentials on each deployment: an ACL user on a Cluster whose default user is off, a
 * password (requirepass) on the primary and replica behind Sentinel, and one on the sentinels
 * themselves. The app connects with the credentials in REDIS_URL (and REDIS_SENTINEL_PASSWORD for
 * the sentinels), and only with them, and a worker process sends a campaign.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { ACCEPTED, audit, scenarioPerTest, type ScenarioRedis } from '../faults/fault-harness.ts';
import { ask, startCluster, startSentinelSetup } from '../helpers/redis-topologies.ts';
import { REPO } from '../helpers/run-cli.ts';

const startScenario = scenarioPerTest<ScenarioRedis>();

async function sendsOnce(s: Awaited<ReturnType<typeof startScenario>>): Promise<void> {
  await s.processes.worker(s.env);
  const { id } = await s.harness.send();
  await s.harness.waitFor((c) => c.state === 'completed', 60_000);
  const result = await audit(s, id, () => ACCEPTED);
  expect(result.duplicates).toEqual([]);
  expect(result.unexpected).toEqual([]);
}

/** REDIS_URL without the credentials: refused, naming REDIS_URL. */
async function refusedWithout(url: string): Promise<void> {
  const config = loadConfig({ cwd: REPO, env: { REDIS_URL: url } });
  await expect(createApp(config, { warn: () => {} })).rejects.toMatchObject({ code: 'CONFIG_INVALID', location: { field: 'REDIS_URL' } });
}

describe('Redis credentials', () => {
  it('on a Cluster, as an ACL user (the default user off): connects and sends with them, is refused without', async () => {
    const s = await startScenario({
      recipients: 20,
      redis: async () => {
        const cluster = await startCluster();
        for (const { port } of cluster.nodes) {
          await ask(port, 'ACL', 'SETUSER', 'app', 'on', '>s3cret', '~*', '&*', '+@all');
          await ask(port, 'CONFIG', 'SET', 'masteruser', 'app');
          await ask(port, 'CONFIG', 'SET', 'masterauth', 's3cret');
        }
        for (const { port } of cluster.nodes) await ask(port, 'ACL', 'SETUSER', 'default', 'off');
        return { url: cluster.url.replace('redis+cluster://', 'redis+cluster://app:s3cret@'), stop: () => cluster.stop() };
      },
    });
    await refusedWithout(s.redis.url.replace('app:s3cret@', ''));
    await sendsOnce(s);
  }, 90_000);

  it('behind Sentinel, with a password on the primary and the replica: connects and sends with it, is refused without', async () => {
    const s = await startScenario({
      recipients: 20,
      redis: async () => {
        const setup = await startSentinelSetup();
        for (const { port } of setup.sentinels) await ask(port, 'SENTINEL', 'SET', setup.name, 'auth-pass', 's3cret');
        for (const { port } of [setup.replica, setup.primary]) {
          await ask(port, 'CONFIG', 'SET', 'masterauth', 's3cret');
          await ask(port, 'CONFIG', 'SET', 'requirepass', 's3cret');
        }
        return { url: setup.url.replace('redis+sentinel://', 'redis+sentinel://:s3cret@'), stop: () => setup.stop() };
      },
    });
    await refusedWithout(s.redis.url.replace(':s3cret@', ''));
    await sendsOnce(s);
  }, 90_000);

  it('behind Sentinel, with a password on the sentinels (REDIS_SENTINEL_PASSWORD): connects and sends with it, is refused without', async () => {
    const s = await startScenario({
      recipients: 20,
      redis: async () => {
        const setup = await startSentinelSetup('newsletter', { sentinelPassword: 'sentinel-s3cret' });
        return { url: setup.url, stop: () => setup.stop() };
      },
      env: { REDIS_SENTINEL_PASSWORD: 'sentinel-s3cret' },
    });
    // Without the sentinels' password, or with a wrong one: refused at start, naming the setting, not left waiting.
    for (const env of [{}, { REDIS_SENTINEL_PASSWORD: 'wrong' }]) {
      const config = loadConfig({ cwd: REPO, env: { REDIS_URL: s.redis.url, ...env } });
      await expect(createApp(config, { warn: () => {} })).rejects.toMatchObject({ code: 'CONFIG_INVALID', location: { field: 'REDIS_SENTINEL_PASSWORD' } });
    }
    await sendsOnce(s);
  }, 90_000);
});
