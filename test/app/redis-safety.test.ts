import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNewsletterError } from '../../src/errors.ts';
import { checkRedisSafety } from '../../src/redis-safety.ts';
import { startPrivateRedisServer, type PrivateRedisServer } from '../../src/redis/private-redis-server.ts';

let own: PrivateRedisServer;
let redis: Redis;

beforeAll(async () => {
  own = await startPrivateRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
  redis = new Redis(own.url);
});
afterAll(async () => {
  redis.disconnect();
  await own.stop();
});

describe('checkRedisSafety', () => {
  it('refuses a Redis that evicts keys under memory pressure', async () => {
    const error = await checkRedisSafety(redis).catch((e: unknown) => e);
    expect(isNewsletterError(error, 'REDIS_UNSAFE')).toBe(true);
    expect((error as Error).message).toContain('allkeys-lru');
  });

  it('warns, without refusing, when nothing is kept on disk', async () => {
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    const report = await checkRedisSafety(redis);
    expect(report).toMatchObject({ maxmemoryPolicy: 'noeviction', aof: false, rdb: false });
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/nothing on disk/);
  });

  it('is quiet when the append-only file is on', async () => {
    await redis.config('SET', 'appendonly', 'yes');
    const report = await checkRedisSafety(redis);
    expect(report.aof).toBe(true);
    expect(report.warnings).toEqual([]);
  });
});
