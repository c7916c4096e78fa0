/**
 * `newsletter preview` in headless Chromium: the seed at 375 and 600 px and in dark
 * mode, the text tab, live reload on saving the post and a partial, a broken front
 * matter shown in the page and recovered from, and "Send a test" through delivery's
 * code to a real in-process SMTP server. One browser for the file.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { launchChromium, requireBrowser, SCREENSHOTS } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { isNewsletterError, type NewsletterError } from '../../src/errors.ts';
import { postSource } from '../../src/preview/find-posts.ts';
import { buildPreview } from '../../src/processes/preview.ts';
import { sampleMessage } from '../../src/preview/sample-message.ts';
import { renderPostFile } from '../../src/render/render-post-file.ts';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';

const SEED = resolve('emails/posts/sofa-weekly-2019-11-01.md');
const POST_NAME = 'sofa-weekly-2019-11-01.md';
const TITLE = 'SOFA Weekly | 每周精选【10/28 - 11/01】';

let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let work: string;
let postFile: string;
let original: string;
let smtp: TestSmtpServer;
let cleanupRedis: () => Promise<void>;
let config: Config;
let server: FastifyInstance;
let base: string;

beforeAll(async () => {
  // Without Chromium every test below fails with this reason (a thrown beforeAll would report them as skipped).
  browser = await launchChromium();
  work = await mkdtemp(join(tmpdir(), 'nl-preview-'));
  await mkdir(join(work, 'posts'));
  await cp(resolve('emails/layouts'), join(work, 'emails/layouts'), { recursive: true });
  await cp(resolve('emails/partials'), join(work, 'emails/partials'), { recursive: true });
  postFile = join(work, 'posts', POST_NAME);
  original = await readFile(SEED, 'utf8');
  await writeFile(postFile, original);

  smtp = await startTestSmtpServer();
  const prefix = uniquePrefix('preview');
  ({ cleanup: cleanupRedis } = await connectTestRedis(prefix));
  config = loadConfig({
    env: {
      SMTP_URL: smtp.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      NEWSLETTER_SECRET: 'preview-test-secret-'.padEnd(48, 'x'),
      PUBLIC_URL: 'https://news.example',
    },
  });
  // Its own (empty) outbox: not the working tree's, where a demo run leaves messages.
  server = await buildPreview(config, { source: await postSource(join(work, 'posts')), emailsDir: join(work, 'emails'), outboxDir: join(work, 'outbox') });
  base = await server.listen({ port: 0, host: '127.0.0.1' });
  if (browser) {
    // The editor's system is in dark mode: the light frames must stay light all the same.
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
    await context.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
    page = await context.newPage();
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await smtp?.close();
  await cleanupRedis?.();
  if (work) await rm(work, { recursive: true, force: true });
});

function previewPage(): Page {
  requireBrowser(browser, 'the preview test needs a real browser');
  return page;
}

const frame = (name: 'phone' | 'desktop' | 'dark'): FrameLocator => page.frameLocator(`iframe[name=${name}]`);

/** Waits until the phone frame's headline reads `text` (the page refreshes by itself). */
async function headlineBecomes(text: string): Promise<void> {
  await expect
    .poll(
      () =>
        frame('phone')
          .locator('h1')
          .first()
          .textContent({ timeout: 2_000 })
          .catch(() => ''),
      { timeout: 10_000 },
    )
    .toBe(text);
}

describe('the preview of the seed post', () => {
  it('lists the post on the index and shows its title in the 375 px and 600 px frames', async () => {
    previewPage();
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: TITLE }).click();
    await expect.poll(() => page.url()).toBe(`${base}/post/${POST_NAME}`);
    for (const name of ['phone', 'desktop', 'dark'] as const) {
      await expect.poll(() => frame(name).locator('h1').first().textContent()).toBe(TITLE);
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'preview-post.png'), fullPage: false });
    expect(await page.getByTestId('inbox-row').textContent()).toContain(TITLE);
  });

  it('has no horizontal overflow in the 375 px frame, and the desktop frame is 600 px wide', async () => {
    previewPage();
    const measure = (name: 'phone' | 'desktop') =>
      frame(name)
        .locator('html')
        .evaluate((root) => ({ client: root.clientWidth, scroll: root.scrollWidth }));
    const phone = await measure('phone');
    expect(phone.client).toBe(375);
    expect(phone.scroll).toBeLessThanOrEqual(phone.client);
    expect((await measure('desktop')).client).toBe(600);
  });

  it('shows the dark frame dark and the light frames light, whatever the system prefers', async () => {
    previewPage();
    const background = (name: 'phone' | 'dark') =>
      frame(name)
        .locator('body')
        .evaluate((body) => getComputedStyle(body).backgroundColor);
    expect(await background('dark')).toBe('rgb(13, 17, 23)');
    expect(await background('phone')).toBe('rgb(243, 244, 246)');
  });

  it('shows the text part, placeholders filled for the sample reader, in the text tab', async () => {
    previewPage();
    const issue = await renderPostFile(postFile, { identity: config.identity, emailsDir: join(work, 'emails') });
    const expected = sampleMessage(issue, config.identity, config.http.publicUrl, new Date()).text;
    await page.getByRole('tab', { name: 'Plain text' }).click();
    const text = page.getByTestId('text-part');
    await expect.poll(() => text.isVisible()).toBe(true);
    expect(await page.locator('iframe[name=phone]').isVisible()).toBe(false);
    expect(await text.textContent()).toBe(expected);
    expect(expected).toContain('https://news.example/unsubscribe/');
    expect(expected).not.toContain('__NL_');
    await page.screenshot({ path: join(SCREENSHOTS, 'preview-text.png') });
    await page.getByRole('tab', { name: 'Headers' }).click();
    const headers = await page.locator('#panel-headers').textContent();
    expect(headers).toContain('List-Unsubscribe-Post');
    expect(headers).toContain('reader@example.com');
    await page.screenshot({ path: join(SCREENSHOTS, 'preview-headers.png') });
    await page.getByRole('tab', { name: 'Email' }).click();
  });
});

describe('live reload', () => {
  it('updates the open page by itself when the post is saved, keeping the open tab and the scroll position', async () => {
    previewPage();
    await page.getByRole('tab', { name: 'Plain text' }).click();
    const scrolled = await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'same page';
      window.scrollTo(0, 300);
      return window.scrollY;
    });
    expect(scrolled).toBeGreaterThan(50);
    await writeFile(postFile, original.replace(`title: "${TITLE}"`, 'title: "Edited while the page was open"'));
    await expect.poll(() => page.getByTestId('text-part').textContent(), { timeout: 10_000 }).toContain('Edited while the page was open');
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
    expect(await page.title()).toBe('Edited while the page was open');
    expect(await page.getByRole('tab', { name: 'Plain text' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate(() => window.scrollY)).toBe(scrolled);

    // The frames reloaded while their tab was hidden: shown again, they fit their email.
    await page.getByRole('tab', { name: 'Email' }).click();
    await headlineBecomes('Edited while the page was open');
    await expect.poll(() => page.locator('iframe[name=phone]').evaluate((f) => f.getBoundingClientRect().height)).toBeGreaterThan(2_000);
  });

  it('re-renders when a partial is saved', async () => {
    previewPage();
    const footer = join(work, 'emails/partials/footer.mjml');
    const before = await readFile(footer, 'utf8');
    await writeFile(footer, before.replace('{{reason}}', '{{reason}} Partial edited.'));
    await expect.poll(() => frame('desktop').getByText('Partial edited.').count(), { timeout: 10_000 }).toBe(1);
    await writeFile(footer, before);
    await expect.poll(() => frame('desktop').getByText('Partial edited.').count(), { timeout: 10_000 }).toBe(0);
  });

  it('shows a broken front matter with file, line and reason, then recovers on the next save', async () => {
    previewPage();
    const broken = original.replace(/^author: (.*)$/m, 'author: $1 and more');
    // The page must show what the renderer reports, location included.
    await writeFile(postFile, broken);
    const failure = await renderPostFile(postFile, { identity: config.identity }).then(
      () => undefined,
      (e: unknown) => e as NewsletterError,
    );
    expect(isNewsletterError(failure, 'POST_FRONT_MATTER_INVALID')).toBe(true);
    const line = failure!.location.line!;
    const error = page.getByTestId('render-error');
    await expect.poll(() => error.isVisible().catch(() => false), { timeout: 10_000 }).toBe(true);
    const shown = (await error.textContent()) ?? '';
    expect(shown).toContain(POST_NAME);
    expect(shown).toContain(`${POST_NAME}:${line} (line ${line})`);
    expect(shown).toContain('front matter is not valid YAML');
    expect(shown).toContain('POST_FRONT_MATTER_INVALID');
    await page.screenshot({ path: join(SCREENSHOTS, 'preview-error.png') });

    await writeFile(postFile, original);
    await expect.poll(() => error.count(), { timeout: 10_000 }).toBe(0);
    await headlineBecomes(TITLE);
  });
});

describe('send a test', () => {
  it('sends one [TEST] message through the delivery code to the address typed in the page', async () => {
    previewPage();
    await page.getByRole('tab', { name: 'Send a test' }).click();
    await page.getByLabel('Address').fill('Editor@Example.com');
    await page.getByRole('button', { name: 'Send a test' }).click();
    await expect.poll(() => page.locator('output').textContent(), { timeout: 10_000 }).toMatch(/^(Sent to|The|Reload|No|Fix)/);
    expect(await page.locator('output').textContent()).toContain('Sent to Editor@example.com');
    const [message] = await smtp.waitForMessages(1);
    expect(message!.to).toEqual(['Editor@example.com']);
    const raw = message!.raw.replace(/=\r\n/g, '');
    expect(raw).toMatch(/^X-Newsletter-Test: yes$/m);
    expect(raw).toMatch(/^List-Unsubscribe: <https:\/\/news\.example\/unsubscribe\/[^>]+>/m);
    expect(raw).toContain('https://news.example/issues/sofa-weekly-2019-11-01');
    await page.screenshot({ path: join(SCREENSHOTS, 'preview-send.png') });
  });

  it('refuses a send without the page token (another site cannot send through the preview)', async () => {
    const response = await fetch(`${base}/send-test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ post: POST_NAME, to: 'someone@example.com' }),
    });
    expect(response.status).toBe(403);
    const rebinding = await server.inject({ url: '/', headers: { host: 'attacker.example' } });
    expect(rebinding.statusCode).toBe(403);
  });
});
