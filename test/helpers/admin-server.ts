/**
 * The web server with the admin API over real HTTP, on the delivery harness: a unique
 * Redis prefix, an in-process SMTP server, a real App (and, when asked, a worker).
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { vi } from 'vitest';
import { DELIVERY_QUEUE, deliveryQueuePrefix } from '../../src/delivery/delivery-queue.ts';
import { buildWebServer } from '../../src/processes/web-server.ts';
import { startHarness, type Harness } from './delivery-harness.ts';
import { dumpKeys } from './dump-keys.ts';

export const TOKEN = 'admin-test-token-'.padEnd(48, 'k');
export const SEED_POST = 'sofa-weekly-2019-11-01.md';

export interface AdminServer {
  harness: Harness;
  server: FastifyInstance;
  base: string;
  /** Holds a copy of the seed post and qa-weekly/index.md. */
  postsDir: string;
  /** fetch with the right token unless `token` says otherwise (null: no Authorization header). */
  call(method: string, path: string, options?: { json?: unknown; body?: BodyInit; type?: string; token?: string | null }): Promise<Response>;
  /** Every key under the test prefix with its value: "nothing changed" is equal snapshots. */
  snapshot(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface AdminServerOptions {
  env?: Record<string, string>;
  onRcpt?: (address: string) => { code: number; message: string } | undefined;
  /** A small import limit, to test it without sending a gigabyte. */
  importMaxBytes?: number;
  /** The web server's clock (admin sessions expire by it). */
  now?: () => Date;
}

export async function startAdminServer(options: AdminServerOptions = {}): Promise<AdminServer> {
  const postsDir = await mkdtemp(join(tmpdir(), 'nl-admin-posts-'));
  await cp(resolve('emails/posts', SEED_POST), join(postsDir, SEED_POST));
  await cp(resolve('test/fixtures/posts/qa-weekly'), join(postsDir, 'qa-weekly'), { recursive: true });
  const harness = await startHarness({ env: { NEWSLETTER_ADMIN_TOKEN: TOKEN, POSTS_DIR: postsDir, ...options.env }, onRcpt: options.onRcpt });
  const { app } = harness;
  // The web server as `newsletter server` builds it; no mailer, since nothing here confirms.
  const server = await buildWebServer(app, {
    importMaxBytes: options.importMaxBytes,
    overrides: { mailer: undefined, ...(options.now && { now: options.now }) },
  });
  const base = await server.listen({ port: 0, host: '127.0.0.1' });
  // The dashboard opened the queue, which writes its meta key a moment later: wait, so that
  // "nothing changed" snapshots compare the store and not BullMQ's start-up.
  const metaKey = `${deliveryQueuePrefix(harness.prefix)}:${DELIVERY_QUEUE}:meta`;
  await vi.waitFor(
    async () => {
      if (!(await app.redis.exists(metaKey))) throw new Error(`BullMQ has not written ${metaKey}`);
    },
    { timeout: 5_000, interval: 10 },
  );
  return {
    harness,
    server,
    base,
    postsDir,
    call(method, path, { json, body, type, token = TOKEN } = {}) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (json !== undefined) headers['content-type'] = 'application/json';
      if (type) headers['content-type'] = type;
      return fetch(`${base}${path}`, { method, headers, body: json !== undefined ? JSON.stringify(json) : body });
    },
    snapshot: () => dumpKeys(app.redis, harness.prefix),
    async close() {
      await server.close();
      await harness.close();
      await rm(postsDir, { recursive: true, force: true });
    },
  };
}
