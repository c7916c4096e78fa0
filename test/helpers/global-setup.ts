/**
 * Makes `npm test` work on a fresh machine: use the Redis at TEST_REDIS_URL (default
 * 127.0.0.1:6379) when it answers, otherwise start a private redis-server on a free
 * port for this run, and stop it afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './free-port.ts';
import { redisAnswers } from './redis-answers.ts';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

let privateRedis: ChildProcess | undefined;

export async function setup(): Promise<void> {
  const url = process.env.TEST_REDIS_URL ?? DEFAULT_URL;
  if (await redisAnswers(url)) {
    process.env.TEST_REDIS_URL = url;
    return;
  }
  const port = await freePort();
  privateRedis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const spawnFailed = new Promise<never>((_, reject) =>
    privateRedis!.once('error', () => reject(new Error(`no Redis at ${url}, and redis-server could not be started: install Redis 7`))),
  );
  const privateUrl = `redis://127.0.0.1:${port}`;
  const ready = (async () => {
    for (let i = 0; i < 50; i++) {
      if (await redisAnswers(privateUrl)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`redis-server on port ${port} did not answer`);
  })();
  await Promise.race([ready, spawnFailed]);
  process.env.TEST_REDIS_URL = privateUrl;
}

export async function teardown(): Promise<void> {
  privateRedis?.kill('SIGTERM');
}
