import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { clearPrefix } from '../../src/demo/clear-prefix.ts';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique key prefix for one test, so tests share the Redis without seeing each other. */
export function uniquePrefix(label = 't'): string {
  return `test:${label}:${randomBytes(6).toString('hex')}`;
}

/** A connection to the shared test Redis, and a cleanup that deletes every key under the prefix. */
export async function connectTestRedis(prefix: string): Promise<{ redis: Redis; cleanup: () => Promise<void> }> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: true });
  await redis.connect();
  const cleanup = async () => {
    await clearPrefix(redis, prefix);
    await redis.quit();
  };
  return { redis, cleanup };
}
