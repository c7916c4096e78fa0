/**
 * What every bad-input case needs: the CLI (run in this process, as bin/newsletter.js runs it)
 * with its own Redis prefix, a Redis seeded with a little state, snapshots of every key under the prefix, and
 * one assertion for "failed with this code, said where, exited 1, printed no stack".
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createTransport } from 'nodemailer';
import { expect } from 'vitest';
import type { BatchJobData } from '../../src/campaign/campaign.ts';
import { CampaignStore } from '../../src/campaign/campaign-store.ts';
import { enqueueCampaign } from '../../src/campaign/enqueue-campaign.ts';
import { DELIVERY_QUEUE, deliveryQueuePrefix } from '../../src/delivery/delivery-queue.ts';
import type { ErrorCode } from '../../src/errors.ts';
import { createServer } from '../../src/http/server.ts';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { runCli as runNewsletter, type CliResult } from '../helpers/run-cli.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { dumpKeys, type KeyDump } from '../helpers/dump-keys.ts';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const SECRET = 'bad-input-secret-'.padEnd(48, 'x');

export type { CliResult };

/**
 * A Redis prefix holding a little of everything the app writes: two subscribers on `weekly`,
 * a key with a TTL (a confirmation-email claim), and a queued campaign (campaign keys and
 * BullMQ's queue keys), so "nothing changed" compares real state of every kind.
 */
export interface World {
  prefix: string;
  redis: Redis;
  store: SubscriberStore;
  snapshot(): Promise<Record<string, KeyDump>>;
  /** A folder for the files a case writes (posts, CSVs, newsletter.yaml); removed by close(). */
  scratch: ScratchDir;
  /** Runs `newsletter ...args` against this prefix; `env` entries set to undefined are removed. */
  cli(args: string[], env?: Record<string, string | undefined>): Promise<CliResult>;
  close(): Promise<void>;
}

export async function openWorld(label: string): Promise<World> {
  const prefix = uniquePrefix(label);
  const { redis, cleanup } = await connectTestRedis(prefix);
  const store = new SubscriberStore({ redis, prefix });
  const [ann] = await store.addMany([
    { email: 'ann@example.com', name: 'Ann', lists: ['weekly'] },
    { email: 'bob@example.com', name: 'Bob', lists: ['weekly'] },
  ]);
  await store.claimConfirmationEmail(ann!.subscriber.id, 3600);
  const queue = new Queue<BatchJobData>(DELIVERY_QUEUE, { connection: redis, prefix: deliveryQueuePrefix(prefix) });
  await enqueueCampaign(
    { campaigns: new CampaignStore({ redis, prefix }), queue, directory: store, now: () => new Date() },
    { issue: deliveryIssue, list: 'weekly', publicUrl: 'https://news.example' },
  );
  await queue.close();
  const scratch = scratchDir();
  return {
    prefix,
    redis,
    store,
    snapshot: () => dumpKeys(redis, prefix),
    scratch,
    cli: (args, env = {}) => runCli(args, { REDIS_PREFIX: prefix, ...env }),
    async close() {
      scratch.remove();
      await cleanup();
    },
  };
}

/** The environment a CLI case starts from: only what the newsletter reads, nothing inherited by accident. */
const CLI_ENV = {
  REDIS_URL: TEST_REDIS_URL,
  NEWSLETTER_CONFIG: join(root, 'newsletter.yaml'),
  NEWSLETTER_SECRET: SECRET,
  LOG_LEVEL: 'silent',
};

/** The CLI in the environment of a bad-input case; `env` entries set to undefined are left out. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runNewsletter(args, { env: { ...CLI_ENV, ...env } });
}

/** stderr without the shared test Redis's "keeps nothing on disk" start-up warning. */
export function errorLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('warning: Redis keeps nothing on disk'));
}

/**
 * The CLI failed the way bad input must fail: exit 1 (not 0, not 70 for a bug, not killed by
 * the timeout), one `newsletter: <where>: <message> [CODE]` line and no stack trace.
 */
export function expectCliError(result: CliResult, code: ErrorCode, line: RegExp): void {
  const lines = errorLines(result);
  expect(result.code, result.stderr).toBe(1);
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^newsletter: /);
  expect(lines[0]).toMatch(line);
  expect(lines[0]!.endsWith(`[${code}]`), lines[0]).toBe(true);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

export interface ScratchDir {
  dir: string;
  /** Writes `name` in the folder and returns its path. */
  write(name: string, content: string | Buffer): string;
  remove(): void;
}

function scratchDir(): ScratchDir {
  const dir = mkdtempSync(join(tmpdir(), 'nl-bad-input-'));
  return {
    dir,
    write(name, content) {
      const file = join(dir, name);
      writeFileSync(file, content);
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Escapes text for use inside a RegExp (file paths in expected messages). */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface Web {
  base: string;
  smtp: TestSmtpServer;
  /** fetch asking for JSON answers, so a case can read `code`. */
  request(method: string, path: string, init?: { body?: string | Buffer; type?: string; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The real web server on port 0 over the world's Redis, mailing through an in-process SMTP
 * server. Rate limits stay in memory (no rateLimitStore): their counters would be the one
 * thing a refused request legitimately writes to Redis, and snapshots compare everything.
 */
export async function startWeb(world: World): Promise<Web> {
  const smtp = await startTestSmtpServer();
  const mailer = createTransport(smtp.url);
  const server = await createServer({
    subscribers: world.store,
    secrets: { current: SECRET },
    publicUrl: 'https://news.example',
    identity: { name: 'Bad Input Weekly', fromAddress: 'weekly@example.com', siteUrl: 'https://example.com' },
    mailer,
    ping: () => world.redis.ping(),
    limits: { subscribe: { max: 1000, timeWindow: 60_000 }, links: { max: 1000, timeWindow: 60_000 } },
  });
  const base = await server.listen({ port: 0, host: '127.0.0.1' });
  return {
    base,
    smtp,
    request: (method, path, { body, type, headers = {} } = {}) =>
      fetch(`${base}${path}`, {
        method,
        body: Buffer.isBuffer(body) ? new Uint8Array(body) : body,
        headers: { accept: 'application/json', ...(type ? { 'content-type': type } : {}), ...headers },
      }),
    async close() {
      await server.close();
      mailer.close();
      await smtp.close();
    },
  };
}
