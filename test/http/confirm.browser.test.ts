/**
 * The confirmation link in headless Chromium, as a person opens it from the email: the page
 * shows the address and a button, the subscriber stays pending until the button is pressed,
 * and the press (a form POST under the pages' Content-Security-Policy) makes it active.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { launchChromium, requireBrowser } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/http/server.ts';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { createToken } from '../../src/subscribers/tokens.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';

const SECRET = 'confirm-browser-secret-'.padEnd(48, 'x');

let browser: Browser | undefined;
let redis: Redis;
let cleanup: () => Promise<void>;
let store: SubscriberStore;
let server: FastifyInstance;
let base: string;

beforeAll(async () => {
  // Without Chromium the test below fails with this reason (a thrown beforeAll would report it as skipped).
  browser = await launchChromium();
  const prefix = uniquePrefix('confirm-browser');
  ({ redis, cleanup } = await connectTestRedis(prefix));
  store = new SubscriberStore({ redis, prefix });
  server = await createServer({
    subscribers: store,
    secrets: { current: SECRET },
    publicUrl: 'http://127.0.0.1',
    identity: { name: 'Test Weekly', fromAddress: 'weekly@example.com', siteUrl: 'https://example.com' },
    mailer: undefined,
    ping: () => redis.ping(),
  });
  base = await server.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await cleanup?.();
});

describe('the confirmation link in a browser', () => {
  it('shows a button, and only pressing it makes the subscriber active', async () => {
    const chromium = requireBrowser(browser, 'this test needs a real browser');
    const { subscriber } = await store.add({ email: 'reader@example.com', status: 'pending' });
    const page = await chromium.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });

    const opened = await page.goto(`${base}/confirm/${createToken(SECRET, subscriber.id, 'confirm')}`);
    expect(opened?.status()).toBe(200);
    await expect.poll(() => page.getByText('reader@example.com').count()).toBe(1);
    expect((await store.get(subscriber.id))?.status).toBe('pending');

    await page.getByRole('button', { name: 'Confirm my subscription' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('You are subscribed to Test Weekly');
    expect((await store.get(subscriber.id))?.status).toBe('active');
    expect(violations).toEqual([]);
    await page.close();
  });
});
