/**
 * The confirmation link of double opt-in, against the real web server and Redis. Link
 * scanners (Outlook Safe Links, corporate mail gateways) open every link in a message, so
 * GET /confirm/:token shows a page with a button and changes nothing; the button's POST
 * makes the subscriber active. Rate limits are kept in memory here, so "changes nothing"
 * compares every key under the prefix.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from '../../src/http/server.ts';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { createToken } from '../../src/subscribers/tokens.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';

const SECRET = 'confirm-secret-'.padEnd(48, 'x');

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;
let store: SubscriberStore;
let server: FastifyInstance;
let base: string;

beforeEach(async () => {
  prefix = uniquePrefix('confirm');
  ({ redis, cleanup } = await connectTestRedis(prefix));
  store = new SubscriberStore({ redis, prefix });
  server = await createServer({
    subscribers: store,
    secrets: { current: SECRET },
    publicUrl: 'https://news.example',
    identity: { name: 'Test Weekly', fromAddress: 'weekly@example.com', siteUrl: 'https://example.com' },
    mailer: undefined,
    ping: () => redis.ping(),
  });
  base = await server.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  await server.close();
  await cleanup();
});

const snapshot = () => dumpKeys(redis, prefix);
const pending = async (email = 'reader@example.com') => (await store.add({ email, status: 'pending', lists: ['weekly'] })).subscriber;

/** The form's method and action, as a browser would submit it. */
function formOf(page: string): { method: string; action: string } {
  const form = /<form\b[^>]*>/i.exec(page)?.[0];
  if (!form) throw new Error(`no form on the page:\n${page}`);
  return { method: /\bmethod="([^"]*)"/i.exec(form)?.[1] ?? 'get', action: /\baction="([^"]*)"/i.exec(form)?.[1] ?? '' };
}

describe('GET /confirm/:token (what a link scanner opens)', () => {
  it('shows a page with a button that posts to the same URL, and changes nothing in Redis', async () => {
    const subscriber = await pending();
    const path = `/confirm/${createToken(SECRET, subscriber.id, 'confirm')}`;
    const before = await snapshot();

    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      const page = await response.text();
      expect(page).toContain('reader@example.com');
      expect(formOf(page)).toEqual({ method: 'post', action: path });
      expect(page).toMatch(/<button type="submit">[^<]+<\/button>/);
    }
    expect((await fetch(`${base}${path}`, { method: 'HEAD' })).status).toBe(200);

    expect(await snapshot()).toEqual(before);
    expect((await store.get(subscriber.id))?.status).toBe('pending');
  });

  it('tells a subscriber who is already active so, with no button, and changes nothing', async () => {
    const subscriber = await pending();
    await store.confirm(subscriber.id);
    const before = await snapshot();
    const response = await fetch(`${base}/confirm/${createToken(SECRET, subscriber.id, 'confirm')}`);
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('You are subscribed to Test Weekly');
    expect(page).not.toContain('<form');
    expect(await snapshot()).toEqual(before);
  });
});

describe('POST /confirm/:token (the button)', () => {
  it('makes the pending subscriber active, as the form on the GET page sends it', async () => {
    const subscriber = await pending();
    const page = await (await fetch(`${base}/confirm/${createToken(SECRET, subscriber.id, 'confirm')}`)).text();
    const { action } = formOf(page);

    const response = await fetch(`${base}${action}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('You are subscribed to Test Weekly');
    const after = await store.get(subscriber.id);
    expect(after?.status).toBe('active');
    expect(after?.history.at(-1)?.reason).toBe('confirmed by email link');
    expect(await store.canReceive(subscriber.id)).toBe(true);
  });

  it('confirms whatever the body is, and answers 200 again when posted twice', async () => {
    const first = await pending('one@example.com');
    const second = await pending('two@example.com');
    for (const [subscriber, init] of [
      [first, { method: 'POST' }],
      [second, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'anything at all' }],
    ] as const) {
      const path = `/confirm/${createToken(SECRET, subscriber.id, 'confirm')}`;
      expect((await fetch(`${base}${path}`, init)).status, subscriber.email).toBe(200);
      expect((await fetch(`${base}${path}`, init)).status, `${subscriber.email}, again`).toBe(200);
      expect((await store.get(subscriber.id))?.status).toBe('active');
    }
  });

  it('refuses a forged, wrong-purpose or stale token with 400 UNSUBSCRIBE_TOKEN_INVALID, and changes nothing', async () => {
    const subscriber = await pending();
    const good = createToken(SECRET, subscriber.id, 'confirm');
    const removed = await pending('gone@example.com');
    await store.remove(removed.id);
    const left = await pending('left@example.com');
    await store.unsubscribe(left.id, 'test');
    const before = await snapshot();
    for (const [name, token] of [
      ['forged', `${good.slice(0, good.indexOf('.'))}.${'A'.repeat(43)}`],
      ['truncated', good.slice(0, -4)],
      ['another secret', createToken('some-other-secret-'.padEnd(48, 'y'), subscriber.id, 'confirm')],
      ['wrong purpose', createToken(SECRET, subscriber.id, 'unsubscribe')],
      ['removed subscriber', createToken(SECRET, removed.id, 'confirm')],
      ['unsubscribed since', createToken(SECRET, left.id, 'confirm')],
    ] as const) {
      const response = await fetch(`${base}/confirm/${token}`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      });
      expect(response.status, name).toBe(400);
      expect(await response.json(), name).toMatchObject({ ok: false, code: 'UNSUBSCRIBE_TOKEN_INVALID' });
    }
    expect(await snapshot()).toEqual(before);
    expect((await store.get(left.id))?.status).toBe('unsubscribed');
  });
});
