/**
 * Makes `npm test` work on a fresh machine: the tests use the Redis at TEST_REDIS_URL
 * (default 127.0.0.1:6379) when it answers, otherwise a private redis-server started on a
 * free port for this run. TEST_REDIS_URL, set here for the test workers, is the only
 * variable the tests read; what else of the caller's environment matters to a run is read
 * here and provided (see ProvidedContext).
 */
import type { TestProject } from 'vitest/node';
import { redisAnswers, startPrivateRedisServer, type PrivateRedisServer } from '../../src/redis/private-redis-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** CI sets NEWSLETTER_CORPUS_REQUIRED=1: there a missing ../shared/corpus fails instead of passing silently. */
    corpusRequired: boolean;
  }
}

const DEFAULT_URL = 'redis://127.0.0.1:6379';

let privateRedis: PrivateRedisServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  project.provide('corpusRequired', process.env.NEWSLETTER_CORPUS_REQUIRED === '1');
  const url = process.env.TEST_REDIS_URL ?? DEFAULT_URL;
  if (await redisAnswers(url)) {
    process.env.TEST_REDIS_URL = url;
    return;
  }
  privateRedis = await startPrivateRedisServer();
  process.env.TEST_REDIS_URL = privateRedis.url;
}

export async function teardown(): Promise<void> {
  await privateRedis?.stop();
}
