/**
 * The public archive over HTTP against a real Redis: every campaign's issue at the URL
 * delivery puts into "view in browser", an index newest first, an Atom feed a real XML
 * parser (Chromium's) accepts, and nothing personal in any of them.
 */
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { launchChromium, requireBrowser, SCREENSHOTS } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Issue } from '../../src/render/issue.ts';
import { CampaignStore } from '../../src/campaign/campaign-store.ts';
import { planCampaign } from '../../src/campaign/plan.ts';
import { loadConfig } from '../../src/config.ts';
import { recipientLinks } from '../../src/delivery/recipient-links.ts';
import { buildMessageTemplate, messageIdFor, personalise } from '../../src/delivery/message-template.ts';
import { issueUrl } from '../../src/campaign/issue-url.ts';
import { createServer } from '../../src/http/server.ts';
import { PLACEHOLDERS } from '../../src/render/placeholders.ts';
import { renderPostFile } from '../../src/render/render-post-file.ts';
import { subscriberKeys } from '../../src/subscribers/subscriber-keys.ts';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';

const SECRET = 'archive-test-secret-'.padEnd(48, 'x');
const PUBLIC_URL = 'https://news.example';
const READER = 'private.reader@example.org';

const { identity } = loadConfig({ env: {} });
/** The server's clock: the archive's list cache ages only when a test moves it. */
let clock = new Date('2026-04-01T09:00:00.000Z');
let redis: Redis;
let cleanup: () => Promise<void>;
let campaigns: CampaignStore;
let subscribers: SubscriberStore;
let server: FastifyInstance;
let base: string;
let browser: Browser | undefined;
let seed: Issue;
let readerId: string;

function handMade(slug: string, subject: string): Issue {
  return {
    slug,
    subject,
    preheader: `${subject}: the short version`,
    date: '2026-02-20',
    mjml: '<mjml></mjml>',
    html: `<!doctype html><html><head><title>${subject.replace(/[<&]/g, '')}</title></head><body><h1>${slug}</h1><a href="${PLACEHOLDERS.viewInBrowserUrl}">view</a> <a href="${PLACEHOLDERS.unsubscribeUrl}">unsubscribe</a></body></html>`,
    text: `${slug}\nUnsubscribe: ${PLACEHOLDERS.unsubscribeUrl}\n`,
    warnings: [],
  };
}

async function send(issue: Issue, list: string, at: string, state?: 'cancelled'): Promise<string> {
  const { campaign, snapshot } = planCampaign({ issue, list, now: new Date(at), publicUrl: PUBLIC_URL });
  if (state) campaign.state = state;
  else campaign.accepted = 1;
  expect(await campaigns.create(campaign, snapshot)).toBe(true);
  return campaign.id;
}

beforeAll(async () => {
  browser = await launchChromium();
  const prefix = uniquePrefix('archive');
  ({ redis, cleanup } = await connectTestRedis(prefix));
  campaigns = new CampaignStore({ redis, prefix });
  subscribers = new SubscriberStore({ redis, prefix });
  // Ids are numbers in join order: start the count somewhere distinctive, so that finding the id in a page means it leaked.
  await redis.set(subscriberKeys(prefix).number, 73_400_318);
  readerId = (await subscribers.add({ email: READER, lists: ['weekly'] })).subscriber.id;
  seed = await renderPostFile(resolve('emails/posts/sofa-weekly-2019-11-01.md'), { identity });
  const wide = await renderPostFile(resolve('test/fixtures/posts/wide-content.md'), { identity });
  await send(seed, 'weekly', '2026-01-05T08:00:00.000Z');
  await send(wide, 'weekly', '2026-02-02T08:00:00.000Z');
  await send(handMade('tips-and-tricks', 'Tips & <tricks> "quoted" \u0001'), 'weekly', '2026-02-20T08:00:00.000Z');
  await send(handMade('withdrawn', 'Withdrawn before anyone got it'), 'weekly', '2026-02-25T08:00:00.000Z', 'cancelled');
  // The seed again, to a second list, later: it must not move up the archive.
  await send(seed, 'friends', '2026-03-01T08:00:00.000Z');
  server = await createServer({
    subscribers,
    secrets: { current: SECRET },
    publicUrl: PUBLIC_URL,
    identity,
    mailer: undefined,
    ping: () => redis.ping(),
    archive: { campaigns, language: identity.language },
    now: () => clock,
  });
  base = await server.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await cleanup?.();
});

/** The raw message delivery sends the reader, as the worker builds it. */
function deliveredMessage(): string {
  const { snapshot } = planCampaign({ issue: seed, list: 'weekly', now: new Date('2026-01-05T08:00:00.000Z'), publicUrl: PUBLIC_URL });
  const template = buildMessageTemplate({ issue: snapshot, identity, campaignId: 'c1', date: new Date(), viewUrl: snapshot.viewUrl });
  const links = recipientLinks(SECRET, PUBLIC_URL, identity)(readerId);
  return personalise(template, { to: READER, messageId: messageIdFor('c1', readerId, identity.fromAddress), ...links })
    .toString('utf8')
    .replace(/=\r\n/g, '')
    .replace(/=3D/g, '=');
}

const get = async (path: string) => {
  const response = await fetch(`${base}${path}`);
  return { response, body: await response.text() };
};

function expectNothingPersonal(body: string, where: string): void {
  const token = /\/unsubscribe\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(deliveredMessage())![1]!;
  expect(body, where).not.toContain(READER);
  expect(body, where).not.toContain(readerId);
  expect(body, where).not.toContain(token);
  expect(body, where).not.toMatch(/\/unsubscribe\/[A-Za-z0-9_-]/);
  expect(body, where).not.toContain('__NL_');
}

describe('the archive on the web server', () => {
  it('serves the issue at the "view in browser" URL of a delivered message, with no token or address in it', async () => {
    const raw = deliveredMessage();
    const viewUrl = new RegExp(`${PUBLIC_URL}/issues/[^"\\s<>]+`).exec(raw)?.[0];
    expect(viewUrl).toBe(issueUrl(PUBLIC_URL, seed.slug));
    expect(raw).toContain(READER);
    const { response, body } = await get(new URL(viewUrl!).pathname);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('content-security-policy')).toContain('img-src https:');
    expect(response.headers.get('content-security-policy')).not.toContain('script-src');
    expect(body).toContain('<title>SOFA Weekly | 每周精选【10/28 - 11/01】</title>');
    expect(body).toContain(`href="${viewUrl}"`);
    expect(body).toContain(`href="${PUBLIC_URL}/how-to-unsubscribe"`);
    expectNothingPersonal(body, 'issue page');
  });

  it('lists published issues newest first by their first send, once each, without a withdrawn campaign', async () => {
    const { response, body } = await get('/issues');
    expect(response.status).toBe(200);
    const links = [...body.matchAll(/<a href="https:\/\/news\.example\/issues\/([^"]+)">/g)].map((m) => m[1]);
    expect(links).toEqual(['tips-and-tricks', 'wide-content', 'sofa-weekly-2019-11-01']);
    expect(body).toContain('Tips &amp; &lt;tricks&gt; &quot;quoted&quot;');
    expect(body).toContain(`${PUBLIC_URL}/feed.xml`);
    expectNothingPersonal(body, 'index');
    const withdrawn = await get('/issues/withdrawn');
    expect(withdrawn.response.status).toBe(404);
    expect(withdrawn.response.headers.get('cache-control')).toBe('no-store');
  });

  it('serves a campaign by its id too, and answers 404 for an unknown issue', async () => {
    const byId = await get('/issues/wide-content--weekly');
    expect(byId.response.status).toBe(200);
    expect(byId.body).toContain(`<link rel="canonical" href="${PUBLIC_URL}/issues/wide-content">`);
    expect((await get('/issues/no-such-issue')).response.status).toBe(404);
    expect((await get('/issues/..%2F..%2Fetc%2Fpasswd')).response.status).toBe(404);
  });

  it('explains how to unsubscribe on the page archived issues link to', async () => {
    const { response, body } = await get('/how-to-unsubscribe');
    expect(response.status).toBe(200);
    expect(body).toContain('unsubscribe');
    expectNothingPersonal(body, 'help page');
  });

  it('publishes a well-formed Atom feed, newest first, with escaped titles', async () => {
    const chromium = requireBrowser(browser, 'the archive test parses the feed with a real browser');
    const { response, body } = await get('/feed.xml');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/atom+xml');
    expectNothingPersonal(body, 'feed');
    const context = await chromium.newContext();
    const page = await context.newPage();
    try {
      const feed = await page.evaluate((xml) => {
        const doc = new DOMParser().parseFromString(xml, 'application/xml');
        const ns = 'http://www.w3.org/2005/Atom';
        const one = (el: Element, name: string) => el.getElementsByTagNameNS(ns, name)[0];
        return {
          error: doc.querySelector('parsererror')?.textContent ?? null,
          root: `${doc.documentElement.namespaceURI} ${doc.documentElement.localName}`,
          feedId: one(doc.documentElement, 'id')?.textContent,
          updated: one(doc.documentElement, 'updated')?.textContent,
          self: doc.querySelector('feed > link[rel=self]')?.getAttribute('href'),
          entries: [...doc.getElementsByTagNameNS(ns, 'entry')].map((entry) => ({
            id: one(entry, 'id')?.textContent,
            title: one(entry, 'title')?.textContent,
            link: one(entry, 'link')?.getAttribute('href'),
            updated: one(entry, 'updated')?.textContent,
            summary: one(entry, 'summary')?.textContent,
          })),
        };
      }, body);
      expect(feed.error).toBeNull();
      expect(feed.root).toBe('http://www.w3.org/2005/Atom feed');
      expect(feed.self).toBe(`${PUBLIC_URL}/feed.xml`);
      expect(feed.entries.map((e) => e.link)).toEqual(['tips-and-tricks', 'wide-content', 'sofa-weekly-2019-11-01'].map((s) => issueUrl(PUBLIC_URL, s)));
      expect(feed.entries[0]!.title).toBe('Tips & <tricks> "quoted" ');
      expect(feed.entries[2]!.summary).toBe(seed.preheader);
      expect(feed.updated).toBe('2026-02-20T08:00:00.000Z');
      for (const entry of feed.entries) {
        expect(entry.id).toBe(entry.link);
        expect(entry.updated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      }
      const view = await context.newPage();
      await view.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
      await view.setViewportSize({ width: 600, height: 900 });
      await view.goto(`${base}/issues/${seed.slug}`);
      await view.screenshot({ path: join(SCREENSHOTS, 'archive-issue.png') });
      await view.goto(`${base}/issues`);
      await view.screenshot({ path: join(SCREENSHOTS, 'archive-index.png') });
      expect(await view.locator('a').first().textContent()).toContain('Tips & <tricks> "quoted"');
    } finally {
      await context.close();
    }
  });

  it('serves an issue whose campaign started after the index was read, and lists it once the list is read again', async () => {
    expect((await get('/issues')).body).not.toContain('just-started');
    await send(handMade('just-started', 'Just started'), 'weekly', '2026-04-01T08:00:00.000Z');
    // A miss reads the list again only when it is over a second old, so unknown addresses stay cheap.
    expect((await get('/issues/just-started')).response.status).toBe(404);
    clock = new Date(clock.getTime() + 1_001);
    const { response, body } = await get('/issues/just-started');
    expect(response.status).toBe(200);
    expect(body).toContain('<h1>just-started</h1>');
    expectNothingPersonal(body, 'new issue');
    expect((await get('/issues')).body).toContain('/issues/just-started"');
  });
});
