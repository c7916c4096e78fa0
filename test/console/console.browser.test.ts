/**
 * The editor's console in headless Chromium against a real `newsletter server` and a real
 * `newsletter worker` process, with an in-process SMTP server: sign in, import a CSV with a
 * bad row (the report is shown), open an issue, send a test (the SMTP server receives it),
 * confirm a send with a double click (one campaign), pause and resume it, and watch it go
 * from sending to completed with the counts updating without a reload. Screenshots at 375
 * and 1280 px (light and dark) go to test-output/screenshots/ to be looked at.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHeaderWords } from '../../src/delivery/mime-encoding.ts';
import { parseMessage } from '../helpers/parse-mime.ts';
import { launchChromium, requireBrowser, SCREENSHOTS } from '../helpers/browser.ts';
import { processesPerTest } from '../helpers/processes.ts';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';

const TOKEN = 'console-browser-token-'.padEnd(48, 'c');
const POST = 'sofa-weekly-2019-11-01.md';
const SUBJECT = 'SOFA Weekly | 每周精选【10/28 - 11/01】';
const CAMPAIGN = 'sofa-weekly-2019-11-01--weekly';

const processes = processesPerTest();
let browser: Browser | undefined;
let smtp: TestSmtpServer;
let postsDir: string;
let env: Record<string, string>;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  browser = await launchChromium();
  smtp = await startTestSmtpServer();
  postsDir = await mkdtemp(join(tmpdir(), 'nl-console-posts-'));
  await cp(resolve('emails/posts', POST), join(postsDir, POST));
  await cp(resolve('test/fixtures/posts/qa-weekly'), join(postsDir, 'qa-weekly'), { recursive: true });
  const prefix = uniquePrefix('console');
  ({ cleanup } = await connectTestRedis(prefix));
  env = {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    NEWSLETTER_CONFIG: 'newsletter.yaml',
    NEWSLETTER_DEV_MODE: '1',
    NEWSLETTER_ADMIN_TOKEN: TOKEN,
    POSTS_DIR: postsDir,
    SMTP_URL: smtp.url,
  };
});
afterAll(async () => {
  await browser?.close();
  await smtp?.close();
  await cleanup?.();
  await rm(postsDir, { recursive: true, force: true });
});

/**
 * Every Content-Security-Policy violation and script error of the page, to be empty. (The
 * sign-in page's 401, a missing favicon and the email's remote images, which this machine
 * cannot resolve, are load errors, not ours.)
 */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** The whole page, except an issue's (its three emails make it very long): the first screen of that. */
async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: !name.startsWith('console-issue-') });
}

async function newContext(width: number, colorScheme: 'light' | 'dark' = 'light'): Promise<BrowserContext> {
  return requireBrowser(browser, 'the console test needs a real browser').newContext({ viewport: { width, height: 900 }, colorScheme });
}

async function signIn(page: Page, base: string, path = '/admin/issues'): Promise<void> {
  const first = await page.goto(`${base}${path}`);
  expect(first?.status()).toBe(401);
  await page.getByLabel(/Admin token/).fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.url()).toBe(`${base}${path}`);
}

describe("the editor's console in a browser", () => {
  it('imports, tests, sends once on a double click, pauses, resumes and watches the campaign complete without a reload', { timeout: 120_000 }, async () => {
    const { url: base } = await processes.server(env);
    const context = await newContext(1280);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signIn(page, base, '/admin/subscribers');

    // A CSV with a bad row: the good rows go in, the bad one is reported by line, as the CLI does.
    await page.getByLabel('List every row joins (optional)').fill('weekly');
    await page.getByLabel('CSV file').setInputFiles({
      name: 'people.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('email,name\nann@example.org,Ann\nnot-an-address,Bad\nbob@example.org,Bob\ncy@example.org,Cy\n'),
    });
    await page.getByRole('button', { name: 'Import' }).click();
    const report = page.getByTestId('import-report');
    await expect.poll(() => report.innerText().catch(() => '')).toContain('imported 3, updated 0, unchanged 0, rejected 1');
    expect(await report.innerText()).toMatch(/upload\.csv:3: .*not-an-address/);
    expect(await page.getByTestId('count-weekly-active').innerText()).toBe('3');
    await shoot(page, 'console-subscribers-1280');

    // The issue as the preview shows it: the email at 375 and 600 px and dark, the text part, the warnings.
    await page.getByRole('link', { name: 'Issues' }).click();
    expect(await page.locator('table.posts tbody tr').count()).toBe(2);
    await page.getByRole('link', { name: SUBJECT }).click();
    await expect.poll(() => page.frameLocator('iframe[name=desktop]').locator('body').innerText()).toContain('SOFA');
    expect(await page.locator('iframe').count()).toBe(3);
    expect(await page.getByTestId('warnings').innerText()).toBeTruthy();
    await shoot(page, 'console-issue-1280');
    await page.getByRole('tab', { name: 'Plain text' }).click();
    expect(await page.getByTestId('text-part').innerText()).toContain('SOFA');

    // A test to two addresses reaches the SMTP server; no campaign exists yet.
    await page.getByTestId('send-link').click();
    await page.getByLabel(/Addresses/).fill('editor@example.org, second@example.org');
    await page.getByRole('button', { name: 'Send a test' }).click();
    await expect
      .poll(() =>
        page
          .getByTestId('test-result')
          .innerText()
          .catch(() => ''),
      )
      .toContain('Test sent to second@example.org');
    const tests = await smtp.waitForMessages(2);
    expect(tests.flatMap((m) => m.to).sort()).toEqual(['editor@example.org', 'second@example.org']);
    expect(decodeHeaderWords(parseMessage(tests[0]!.raw).headers.get('subject')!)).toContain('[TEST]');
    expect(await page.getByTestId('active-weekly').innerText()).toBe('3');
    await shoot(page, 'console-send-1280');

    await page.goto(`${base}/admin/send/${POST}`);

    // Confirm restates subject, list, recipients and when; a double click creates one campaign.
    await page.getByLabel('Now').check();
    await page.getByRole('button', { name: 'Review…' }).click();
    const facts = await page.getByTestId('confirm-facts').innerText();
    expect(facts).toContain(SUBJECT);
    expect(facts).toContain('weekly');
    expect(await page.getByTestId('recipients').innerText()).toBe('3 active subscribers');
    expect(await page.getByTestId('when').innerText()).toBe('now');
    await shoot(page, 'console-confirm-1280');
    const confirmUrl = page.url();
    await page.getByTestId('send-now').dblclick();
    await expect.poll(() => page.url()).toContain(`/admin/campaigns/${CAMPAIGN}?notice=started`);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const listed = async () => ((await (await fetch(`${base}/api/campaigns`, { headers: auth })).json()) as { campaigns: { id: string }[] }).campaigns;
    expect((await listed()).map((c) => c.id)).toEqual([CAMPAIGN]);

    // Sending it again (a second tab, a reload of the confirm page) finds the campaign instead.
    const again = await context.newPage();
    await again.goto(confirmUrl);
    expect(await again.locator('main').innerText()).toContain('already been sent to weekly');
    expect(await again.getByTestId('send-now').count()).toBe(0);
    await again.close();
    expect(await listed()).toHaveLength(1);

    // No worker runs yet: pause and resume it, nothing is sent meanwhile.
    const state = page.getByTestId('state');
    expect(await state.innerText()).toBe('sending');
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => state.innerText()).toBe('paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => state.innerText()).toBe('sending');
    expect(await page.getByTestId('count-accepted').innerText()).toBe('0');

    // The worker comes up: the same page, never reloaded, counts up to completed.
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    await processes.worker(env);
    await expect.poll(() => state.innerText(), { timeout: 60_000 }).toBe('completed');
    expect(await page.getByTestId('count-accepted').innerText()).toBe('3');
    expect(await page.locator('progress[data-field=percent]').getAttribute('value')).toBe('100');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.getByRole('button', { name: 'Pause' }).isVisible()).toBe(false);
    await smtp.waitForMessages(5);
    await shoot(page, 'console-campaign-1280');

    // Scheduled some seconds ahead to a second list, as a time in a zone: the campaign page shows
    // it scheduled, then a scheduler (the server's or the worker's) starts it, and the same page,
    // never reloaded, counts it to completed.
    await page.goto(`${base}/admin/subscribers`);
    await page.locator('#add-email').fill('dee@example.org');
    await page.locator('#add-list').fill('later');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect
      .poll(() =>
        page
          .getByTestId('count-later-active')
          .innerText()
          .catch(() => ''),
      )
      .toBe('1');
    await page.goto(`${base}/admin/send/${POST}`);
    await page.locator('input[name=list][value=later]').check();
    await page.getByLabel('At a time:').check();
    // Far enough ahead to survive the clicks below on a busy machine; a time already past is refused.
    const startAt = new Date(Date.now() + 20_000);
    await page.getByLabel('Date and time').fill(startAt.toISOString().slice(0, 19));
    await page.getByLabel('Time zone').selectOption('UTC');
    await page.getByRole('button', { name: 'Review…' }).click();
    expect(await page.getByTestId('recipients').innerText()).toBe('1 active subscriber');
    await shoot(page, 'console-confirm-schedule-1280');
    await page.getByTestId('schedule').click();
    const later = CAMPAIGN.replace(/--weekly$/, '--later');
    await expect.poll(() => page.url()).toContain(`/admin/campaigns/${later}?notice=scheduled`);
    expect(await state.innerText()).toBe('scheduled');
    expect(await page.getByTestId('scheduled-at').innerText()).toBe(`${startAt.toISOString().slice(0, 10)} ${startAt.toISOString().slice(11, 19)} UTC`);
    await shoot(page, 'console-scheduled-1280');
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    await expect.poll(() => state.innerText(), { timeout: 60_000 }).toBe('completed');
    expect(await page.getByTestId('count-accepted').innerText()).toBe('1');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    const scheduled = await smtp.waitForMessages(6);
    expect(scheduled.filter((m) => m.to.includes('dee@example.org'))).toHaveLength(1);
    // Not before its time: the form took the time to the second, so the start is that second.
    expect(Date.now()).toBeGreaterThanOrEqual(Math.floor(startAt.getTime() / 1000) * 1000);
    await page.getByRole('link', { name: 'Campaigns', exact: true }).click();
    await shoot(page, 'console-campaigns-1280');
    expect(errors).toEqual([]);
    await context.close();

    // At 320 and 375 px and in dark mode, every page reads without sideways scrolling of the page itself.
    for (const [width, scheme] of [
      [320, 'light'],
      [375, 'light'],
      [375, 'dark'],
      [1280, 'dark'],
    ] as const) {
      const small = await newContext(width, scheme);
      const phone = await small.newPage();
      const phoneErrors = watchErrors(phone);
      await signIn(phone, base);
      for (const [name, path] of [
        ['issues', '/admin/issues'],
        ['issue', `/admin/issues/${POST}`],
        ['send', `/admin/send/${POST}`],
        ['campaign', `/admin/campaigns/${CAMPAIGN}`],
        ['campaigns', '/admin/campaigns'],
        ['subscribers', '/admin/subscribers'],
      ]) {
        await phone.goto(`${base}${path}`);
        const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${name} at ${width} px`).toBeLessThanOrEqual(0);
        await shoot(phone, `console-${name}-${width}${scheme === 'dark' ? '-dark' : ''}`);
      }
      // Keyboard: the first Tab shows the skip link with a visible focus ring.
      await phone.keyboard.press('Tab');
      expect(await phone.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
      expect(phoneErrors).toEqual([]);
      await small.close();
    }
  });
});
