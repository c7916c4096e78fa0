/**
 * The queue dashboard in headless Chromium, as an operator opens it: the address bar gets
 * the sign-in form, the token is typed once, and Bull Board's UI loads under its own
 * Content-Security-Policy and shows the delivery queue with the waiting batch.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, requireBrowser, SCREENSHOTS } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_POST, startAdminServer, TOKEN, type AdminServer } from '../helpers/admin-server.ts';

let browser: Browser | undefined;
let admin: AdminServer;

beforeAll(async () => {
  // Without Chromium the test below fails with this reason (a thrown beforeAll would report it as skipped).
  browser = await launchChromium();
  admin = await startAdminServer();
  await admin.harness.addSubscribers(3);
  await admin.call('POST', '/api/campaigns', { json: { post: SEED_POST, list: 'weekly' } });
});
afterAll(async () => {
  await browser?.close();
  await admin?.close();
});

describe('the queue dashboard in a browser', () => {
  it('asks for the token, then loads Bull Board showing the delivery queue, with no blocked script or style', async () => {
    const context = await requireBrowser(browser, 'the dashboard test needs a real browser').newContext({ viewport: { width: 1280, height: 800 } });
    // Nothing leaves the machine (the board links a web font; the CSP blocks it anyway).
    await context.route('**/*', (route) => (route.request().url().startsWith(admin.base) ? route.continue() : route.abort()));
    const page = await context.newPage();
    const violations: string[] = [];
    const pageErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text()) && !/fonts\.googleapis/.test(message.text()))
        violations.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));

    const first = await page.goto(`${admin.base}/admin/queues/`);
    expect(first?.status()).toBe(401);
    await page.getByLabel(/Admin token/).fill(TOKEN);
    await page.getByRole('button', { name: /Sign in/ }).click();
    await expect.poll(() => page.url()).toBe(`${admin.base}/admin/queues/`);

    await expect
      .poll(
        () =>
          page
            .locator('body')
            .innerText({ timeout: 2_000 })
            .catch(() => ''),
        { timeout: 15_000 },
      )
      .toContain('deliveries');
    await page.screenshot({ path: join(SCREENSHOTS, 'queue-dashboard.png') });
    expect(await page.title()).toBe('Newsletter deliveries');
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);

    // The queue's own page lists the waiting batch of the campaign.
    await page.goto(`${admin.base}/admin/queues/queue/deliveries?status=waiting`);
    await expect
      .poll(
        () =>
          page
            .locator('body')
            .innerText({ timeout: 2_000 })
            .catch(() => ''),
        { timeout: 15_000 },
      )
      .toContain('sofa-weekly-2019-11-01--weekly-b0');
    await page.screenshot({ path: join(SCREENSHOTS, 'queue-dashboard-waiting.png') });
    await context.close();
  });
});
