import { Redis } from 'ioredis';

/**
 * Whether a Redis at `url` answers PING now (one try, no retries). While an AOF loads,
 * Redis accepts connections but answers LOADING: that counts as not answering.
 */
export async function redisAnswers(url: string, connectTimeout = 1_000): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
