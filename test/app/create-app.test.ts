import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { isNewsletterError } from '../../src/errors.ts';
import { startPrivateRedisServer, type PrivateRedisServer } from '../../src/redis/private-redis-server.ts';
import { TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const cwd = fileURLToPath(new URL('../..', import.meta.url));
const configFor = (redisUrl: string) => loadConfig({ env: { REDIS_URL: redisUrl, REDIS_PREFIX: uniquePrefix('app').replace(/[^A-Za-z0-9:_-]/g, '') }, cwd });

let evicting: PrivateRedisServer;
beforeAll(async () => {
  evicting = await startPrivateRedisServer({ args: ['--maxmemory-policy', 'volatile-lru'] });
});
afterAll(async () => {
  await evicting.stop();
});

describe('createApp', () => {
  it('refuses a Redis that would evict keys', async () => {
    const error = await createApp(configFor(evicting.url), { warn: () => {} }).catch((e: unknown) => e);
    expect(isNewsletterError(error, 'REDIS_UNSAFE')).toBe(true);
  });

  it('reports an unreachable Redis as one clear error', async () => {
    const error = await createApp(configFor('redis://127.0.0.1:1'), { warn: () => {} }).catch((e: unknown) => e);
    expect(isNewsletterError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/cannot connect to Redis at redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/);
  });

  it('passes the durability warning on, and closes cleanly', async () => {
    const warnings: string[] = [];
    const app = await createApp(configFor(TEST_REDIS_URL), { warn: (m) => warnings.push(m) });
    expect(await app.subscribers.countList()).toBe(0);
    await app.close();
    await expect(app.redis.ping()).rejects.toThrow(/closed/i);
    // The shared test Redis keeps nothing on disk.
    expect(warnings.some((w) => /nothing on disk/.test(w))).toBe(true);
  });
});
