import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { createTransport, type Transporter } from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type ServerDeps } from '../../src/http/server.ts';
import { createLogger } from '../../src/logger.ts';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { createToken } from '../../src/subscribers/tokens.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';

const SECRET = 'test-secret-'.padEnd(48, 'x');
const identity = { name: 'Test Weekly', fromAddress: 'weekly@example.com', siteUrl: 'https://example.com' };

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;
let store: SubscriberStore;
let smtp: TestSmtpServer;
let transport: Transporter;
let server: FastifyInstance;
let base: string;
let logs: string;

async function start(overrides: Partial<ServerDeps> = {}) {
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  server = await createServer({
    subscribers: store,
    secrets: { current: SECRET },
    publicUrl: 'http://public.example',
    identity,
    mailer: transport,
    ping: () => redis.ping(),
    rateLimitStore: { redis, prefix },
    logger: createLogger({ logLevel: 'info' }, { name: 'web', stream }),
    ...overrides,
  });
  base = await server.listen({ port: 0, host: '127.0.0.1' });
}

beforeEach(async () => {
  prefix = uniquePrefix('http');
  ({ redis, cleanup } = await connectTestRedis(prefix));
  store = new SubscriberStore({ redis, prefix });
  smtp = await startTestSmtpServer();
  transport = createTransport(smtp.url);
  logs = '';
  await start();
});
afterEach(async () => {
  await server.close();
  transport.close();
  await smtp.close();
  await cleanup();
});

/** Subscriber keys only: the rate limiter's counters under the same prefix are expected to move. */
const subscriberKeys = () => `${prefix}:{${prefix}}:sub`;

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** The confirmation link in a received message, with quoted-printable soft breaks undone. */
function confirmPath(raw: string): string {
  const match = /http:\/\/public\.example(\/confirm\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(raw.replace(/=\r?\n/g, ''));
  if (!match) throw new Error(`no confirmation link in:\n${raw}`);
  return match[1]!;
}

describe('POST /subscribe and POST /confirm/:token (double opt-in)', () => {
  it('makes a pending subscriber, mails a link that activates it, and keeps the token out of the logs', async () => {
    const response = await fetch(`${base}/subscribe`, form({ email: 'New.Reader@Example.com', name: 'New Reader' }));
    expect(response.status).toBe(202);
    expect(await response.text()).toContain('confirmation link is on its way');
    expect((await store.getByEmail('new.reader@example.com'))?.status).toBe('pending');

    const [message] = await smtp.waitForMessages(1);
    expect(message!.to).toEqual(['New.Reader@example.com']);
    expect(message!.raw).toMatch(/^Subject: Confirm your subscription to Test Weekly/m);
    const path = confirmPath(message!.raw);

    const confirmed = await fetch(`${base}${path}`, { method: 'POST' });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('You are subscribed to Test Weekly');
    const subscriber = await store.getByEmail('new.reader@example.com');
    expect(subscriber).toMatchObject({ status: 'active', name: 'New Reader', lists: ['default'] });
    expect(await store.canReceive(subscriber!.id)).toBe(true);

    const token = path.split('/').pop()!;
    expect(logs).toContain('/confirm/[redacted]');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(token.split('.')[1]!);
  });

  it('accepts JSON and answers the same whether or not the address is already subscribed', async () => {
    await store.add({ email: 'known@example.com', status: 'active', lists: ['weekly'] });
    const post = (email: string) =>
      fetch(`${base}/subscribe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, list: 'weekly' }) });
    const known = await post('known@example.com');
    const fresh = await post('fresh@example.com');
    expect(known.status).toBe(fresh.status);
    expect(await known.json()).toEqual(await fresh.json());
    await smtp.waitForMessages(1);
    // Closing waits for the confirmation emails still being sent: one for the known address would be among them.
    await server.close();
    expect(smtp.messages.map((m) => m.to[0])).toEqual(['fresh@example.com']);
    expect((await store.getByEmail('fresh@example.com'))?.lists).toEqual(['weekly']);
  });

  it('sends at most one confirmation per address per window, however often the form is posted', async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/subscribe`, form({ email: 'again@example.com' }))).status).toBe(202);
    await smtp.waitForMessages(1);
    // Closing waits for the confirmation emails still being sent: a second one would be among them.
    await server.close();
    expect(smtp.messages).toHaveLength(1);
  });

  it('answers 400 for a bad address or a bad body, and changes nothing', async () => {
    await store.add({ email: 'ok@example.com', lists: ['weekly'] });
    const before = await dumpKeys(redis, subscriberKeys());
    for (const init of [
      form({ email: 'not-an-address' }),
      form({ name: 'No Email' }),
      form({ email: 'ok@example.com', list: 'no spaces allowed' }),
      form({ email: 'new@example.com', list: 'invented-by-a-visitor' }),
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email": ' },
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ['a@example.com'] }) },
    ]) {
      const response = await fetch(`${base}/subscribe`, init);
      expect(response.status, String(init.body)).toBe(400);
    }
    const json = await fetch(`${base}/subscribe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"x"}' });
    expect(await json.json()).toMatchObject({ ok: false, code: 'SUBSCRIBER_EMAIL_INVALID' });
    expect(await dumpKeys(redis, subscriberKeys())).toEqual(before);
    expect(smtp.messages).toHaveLength(0);
  });

  it('never lets an old confirmation link undo an unsubscribe', async () => {
    const { subscriber } = await store.add({ email: 'left@example.com', status: 'pending' });
    const path = `/confirm/${createToken(SECRET, subscriber.id, 'confirm')}`;
    expect((await fetch(`${base}${path}`, { method: 'POST' })).status).toBe(200);
    await store.unsubscribe(subscriber.id, 'test');
    const before = await dumpKeys(redis, subscriberKeys());
    expect((await fetch(`${base}${path}`, { method: 'POST' })).status).toBe(400);
    expect((await fetch(`${base}${path}`)).status).toBe(400);
    expect(await dumpKeys(redis, subscriberKeys())).toEqual(before);
  });

  it('lets someone who unsubscribed subscribe again, but only through the new confirmation link', async () => {
    const { subscriber } = await store.add({ email: 'back@example.com' });
    await store.add({ email: 'someone@example.com', lists: ['weekly'] });
    await store.unsubscribe(subscriber.id, 'test');
    expect((await fetch(`${base}/subscribe`, form({ email: 'back@example.com', list: 'weekly' }))).status).toBe(202);
    expect((await store.get(subscriber.id))?.status).toBe('pending');
    expect(await store.canReceive(subscriber.id)).toBe(false);
    const [message] = await smtp.waitForMessages(1);
    expect((await fetch(`${base}${confirmPath(message!.raw)}`, { method: 'POST' })).status).toBe(200);
    const after = await store.get(subscriber.id);
    expect(after?.status).toBe('active');
    expect(after?.lists).toEqual(['default', 'weekly']);
    expect(after?.history.map((h) => h.status)).toEqual(['active', 'unsubscribed', 'pending', 'active']);
  });

  it('rate-limits POST /subscribe per client address', async () => {
    await server.close();
    await start({ limits: { subscribe: { max: 2, timeWindow: 60_000 } } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${base}/subscribe`, form({ email: `r${i}@example.com` }))).status);
    expect(statuses).toEqual([202, 202, 429]);
    expect(await store.getByEmail('r2@example.com')).toBeUndefined();
  });

  it('behind a trusted proxy, limits each forwarded client address separately', async () => {
    await server.close();
    await start({ trustProxy: 1, limits: { subscribe: { max: 1, timeWindow: 60_000 } } });
    const from = (client: string, email: string) => {
      const init = form({ email });
      return fetch(`${base}/subscribe`, { ...init, headers: { ...init.headers, 'x-forwarded-for': client } });
    };
    expect((await from('203.0.113.1', 'p1@example.com')).status).toBe(202);
    expect((await from('203.0.113.1', 'p2@example.com')).status).toBe(429);
    expect((await from('203.0.113.2', 'p3@example.com')).status).toBe(202);
  });

  it('answers 503 when no SMTP server is configured, and stores nothing', async () => {
    await server.close();
    await start({ mailer: undefined });
    const before = await dumpKeys(redis, subscriberKeys());
    expect((await fetch(`${base}/subscribe`, form({ email: 'x@example.com' }))).status).toBe(503);
    expect(await dumpKeys(redis, subscriberKeys())).toEqual(before);
  });
});

describe('GET /healthz', () => {
  it('answers 200 while Redis answers', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });
});
