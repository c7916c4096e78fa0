import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from '../../src/http/server.ts';
import type { Subscriber } from '../../src/subscribers/subscriber.ts';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { createToken } from '../../src/subscribers/tokens.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';

const SECRET = 'unsubscribe-test-secret'.padEnd(40, '!');
const OLD_SECRET = 'old-unsubscribe-secret'.padEnd(40, '?');

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;
let store: SubscriberStore;
let server: FastifyInstance;
let base: string;
let reader: Subscriber;

const token = (s: Subscriber, secret = SECRET) => createToken(secret, s.id, 'unsubscribe');
const subscriberKeys = () => `${prefix}:{${prefix}}:sub`;

beforeEach(async () => {
  prefix = uniquePrefix('unsub');
  ({ redis, cleanup } = await connectTestRedis(prefix));
  store = new SubscriberStore({ redis, prefix });
  reader = (await store.add({ email: "o'brien@example.com", name: '<b>Bold</b>', lists: ['weekly', 'news'] })).subscriber;
  server = await createServer({
    subscribers: store,
    secrets: { current: SECRET, previous: OLD_SECRET },
    publicUrl: 'http://public.example',
    identity: { name: 'Test <Weekly>', fromAddress: 'w@example.com', siteUrl: 'https://example.com' },
    mailer: undefined,
    ping: () => redis.ping(),
  });
  base = await server.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  await server.close();
  await cleanup();
});

describe('GET /unsubscribe/:token', () => {
  it('shows the address, the lists and a button, escaped, and changes nothing', async () => {
    const before = await dumpKeys(redis, subscriberKeys());
    const response = await fetch(`${base}/unsubscribe/${token(reader)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const body = await response.text();
    expect(body).toContain('o&#39;brien@example.com');
    expect(body).toContain('weekly, news');
    expect(body).toContain('Test &lt;Weekly&gt;');
    expect(body).not.toContain('<Weekly>');
    expect(body).toMatch(/<form method="post" action="\/unsubscribe\/[A-Za-z0-9_.-]+">/);
    expect(body).toContain('<button type="submit">Unsubscribe</button>');
    expect(body).toContain('name="viewport"');
    expect(await dumpKeys(redis, subscriberKeys())).toEqual(before);
    expect(await store.canReceive(reader.id)).toBe(true);
  });
});

describe('POST /unsubscribe/:token (RFC 8058 one-click)', () => {
  it('unsubscribes at once from a form-urlencoded List-Unsubscribe=One-Click, with no cookie, idempotently', async () => {
    const post = () =>
      fetch(`${base}/unsubscribe/${token(reader)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
    const first = await post();
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('You are unsubscribed');
    expect(await store.canReceive(reader.id)).toBe(false);
    const after = await dumpKeys(redis, subscriberKeys());
    const second = await post();
    expect(second.status).toBe(200);
    expect(await dumpKeys(redis, subscriberKeys())).toEqual(after);
    const history = (await store.get(reader.id))!.history;
    expect(history.at(-1)).toMatchObject({ status: 'unsubscribed', reason: 'one-click (RFC 8058)' });
    expect(history).toHaveLength(2);
  });

  it('accepts the one-click body as multipart/form-data', async () => {
    const body = new FormData();
    body.append('List-Unsubscribe', 'One-Click');
    const response = await fetch(`${base}/unsubscribe/${token(reader)}`, { method: 'POST', body });
    expect(response.status).toBe(200);
    expect((await store.get(reader.id))?.history.at(-1)).toMatchObject({ status: 'unsubscribed', reason: 'one-click (RFC 8058)' });
  });

  it('records the button on its own page as the reason', async () => {
    const page = await (await fetch(`${base}/unsubscribe/${token(reader)}`)).text();
    const fields = [...page.matchAll(/name="([^"]+)" value="([^"]+)"/g)].map((m) => [m[1]!, m[2]!]);
    const response = await fetch(`${base}/unsubscribe/${token(reader)}`, { method: 'POST', body: new URLSearchParams(fields) });
    expect(response.status).toBe(200);
    expect((await store.get(reader.id))?.history.at(-1)).toMatchObject({ status: 'unsubscribed', reason: 'unsubscribe page' });
  });

  it('still unsubscribes when the body is malformed JSON', async () => {
    const response = await fetch(`${base}/unsubscribe/${token(reader)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    expect(response.status).toBe(200);
    expect(await store.canReceive(reader.id)).toBe(false);
  });

  it('is never rate-limited: a mailbox provider posts many one-click requests from one address', async () => {
    const many = await store.addMany(Array.from({ length: 80 }, (_, i) => ({ email: `bulk${i}@example.com` })));
    const statuses = await Promise.all(
      many.map(({ subscriber }) =>
        fetch(`${base}/unsubscribe/${token(subscriber)}`, { method: 'POST', body: new URLSearchParams({ 'List-Unsubscribe': 'One-Click' }) }).then(
          (r) => r.status,
        ),
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
    for (const { subscriber } of many) expect(await store.canReceive(subscriber.id)).toBe(false);
  });

  it('accepts a POST with no body or an unexpected content type', async () => {
    const other = (await store.add({ email: 'other@example.com' })).subscriber;
    expect((await fetch(`${base}/unsubscribe/${token(reader)}`, { method: 'POST' })).status).toBe(200);
    const plain = await fetch(`${base}/unsubscribe/${token(other)}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(plain.status).toBe(200);
    expect(await store.canReceive(reader.id)).toBe(false);
    expect(await store.canReceive(other.id)).toBe(false);
  });

  it('honours links signed with the previous secret after a rotation', async () => {
    const response = await fetch(`${base}/unsubscribe/${token(reader, OLD_SECRET)}`, {
      method: 'POST',
      body: new URLSearchParams({ 'List-Unsubscribe': 'One-Click' }),
    });
    expect(response.status).toBe(200);
    expect((await store.get(reader.id))?.status).toBe('unsubscribed');
  });
});

describe('a forged, truncated or stale token', () => {
  it('gets a 400 page on every route and changes nothing (a stale one posted: see the next test)', async () => {
    const good = token(reader);
    const gone = (await store.add({ email: 'gone@example.com' })).subscriber;
    const staleToken = token(gone);
    await store.remove(gone.id);
    const confirmToken = createToken(SECRET, reader.id, 'confirm');
    const bad = [
      good.slice(0, -3),
      good.slice(0, good.indexOf('.')),
      `${good}x`,
      createToken('some-other-secret-of-enough-length!!', reader.id, 'unsubscribe'),
      confirmToken, // the wrong purpose on /unsubscribe (and valid on /confirm, so swapped below)
      staleToken,
      'not-a-token',
      '%3Cscript%3E',
    ];
    const before = await dumpKeys(redis, subscriberKeys());
    for (const t of bad) {
      const onConfirm = t === confirmToken ? good : t;
      for (const [method, path] of [
        ['GET', `/unsubscribe/${t}`],
        ...(t === staleToken ? [] : [['POST', `/unsubscribe/${t}`] as const]),
        ['GET', `/confirm/${onConfirm}`],
      ] as const) {
        const response = await fetch(`${base}${path}`, {
          method,
          body: method === 'POST' ? new URLSearchParams({ 'List-Unsubscribe': 'One-Click' }) : undefined,
        });
        expect(response.status, `${method} ${path}`).toBe(400);
        const text = await response.text();
        expect(text, path).toContain('This link is not valid');
        expect(text).not.toContain('<script>');
      }
    }
    expect(await dumpKeys(redis, subscriberKeys())).toEqual(before);
    expect(await store.canReceive(reader.id)).toBe(true);
  });

  it('a stale one posted (one-click for a removed subscriber) is answered 200, as RFC 8058 expects, and changes nothing', async () => {
    const gone = (await store.add({ email: 'erased@example.com' })).subscriber;
    const staleToken = token(gone);
    await store.remove(gone.id);
    const before = await dumpKeys(redis, subscriberKeys());
    const response = await fetch(`${base}/unsubscribe/${staleToken}`, {
      method: 'POST',
      body: new URLSearchParams({ 'List-Unsubscribe': 'One-Click' }),
      redirect: 'manual',
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('This address is not on the list');
    expect(await dumpKeys(redis, subscriberKeys())).toEqual(before);
  });
});
