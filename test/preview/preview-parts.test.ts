/**
 * The preview without a browser: frames forced light or dark, the sample message,
 * which files count as posts, escaping, broken posts on the index, and the page
 * that says how to set up "Send a test".
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { isNewsletterError } from '../../src/errors.ts';
import { listPosts, postSource, resolvePost } from '../../src/preview/find-posts.ts';
import { frameDocument } from '../../src/preview/frame-document.ts';
import { createPreviewServer } from '../../src/preview/preview-server.ts';
import { buildPreview, previewTestSender, sendTestUnavailable } from '../../src/processes/preview.ts';
import { decodeHeaderWords } from '../../src/delivery/mime-encoding.ts';
import { SAMPLE_SUBSCRIBER, sampleMessage } from '../../src/preview/sample-message.ts';
import { renderPostFile } from '../../src/render/render-post-file.ts';

const config = loadConfig({ env: { NEWSLETTER_CONFIG: 'newsletter.yaml', PUBLIC_URL: 'https://news.example' } });
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'nl-preview-parts-'));
  for (const [name, text] of Object.entries({
    'good.md': '---\ntitle: "<script>alert(1)</script> & friends"\ndate: 2026-11-20\n---\n\nHello **there**.\n',
    'broken.md': '---\ntitle: Broken\nauthor: "x" y\n---\nbody\n',
    'issue-7/index.md': '---\ntitle: In a folder\ndate: 2026-11-27\n---\nbody\n',
    '.drafts/hidden.md': '---\ntitle: Hidden\n---\nbody\n',
    'node_modules/pkg/changelog.md': '---\ntitle: A package, not a post\n---\nbody\n',
    'notes.txt': 'not a post',
  })) {
    await mkdir(join(work, name, '..'), { recursive: true });
    await writeFile(join(work, name), text);
  }
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const DARK_HTML = '<html><head><title>t</title><style>@media (prefers-color-scheme: dark) { body { background: #000 } }</style></head><body></body></html>';

describe('frame documents', () => {
  it('switch the dark rules on for the dark frame and off for the light ones', () => {
    const dark = frameDocument(DARK_HTML, 'dark');
    const light = frameDocument(DARK_HTML, 'light');
    expect(dark).toContain('@media all { body { background: #000 } }');
    expect(light).toContain('@media not all { body { background: #000 } }');
    expect(dark).not.toContain('prefers-color-scheme');
    expect(dark).toMatch(/^<html><head><base target="_blank"><style>:root\{color-scheme:dark !important\}<\/style><title>/);
    expect(light).toContain(':root{color-scheme:light !important}');
  });
});

describe('the sample message', () => {
  it('fills every placeholder and builds the headers delivery sends, for a reader who does not exist', async () => {
    const issue = await renderPostFile(resolve('emails/posts/sofa-weekly-2019-11-01.md'), { identity: config.identity });
    const sample = sampleMessage(issue, config.identity, 'https://news.example', new Date('2026-11-23T10:00:00Z'));
    for (const part of [sample.html, sample.text]) {
      expect(part).not.toContain('__NL_');
      expect(part).toContain(sample.unsubscribeUrl);
      expect(part).toContain('https://news.example/issues/sofa-weekly-2019-11-01');
    }
    const header = (name: string) => sample.headers.find((h) => h.name === name)?.value;
    expect(header('To')).toBe(SAMPLE_SUBSCRIBER.email);
    expect(decodeHeaderWords(header('Subject')!)).toBe(issue.subject);
    expect(header('List-Unsubscribe')).toMatch(/^<https:\/\/news\.example\/unsubscribe\/[\w-]+\.[\w-]+>, <mailto:/);
    expect(header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(header('Date')).toBe('Mon, 23 Nov 2026 10:00:00 +0000');
    expect(sample.messageBytes).toBeGreaterThan(sample.htmlBytes);
  });
});

describe('which files are posts', () => {
  it('finds Markdown files and index.md folders, skipping hidden folders and node_modules', async () => {
    expect(await listPosts(await postSource(work))).toEqual(['broken.md', 'good.md', 'issue-7/index.md']);
  });

  it('resolves only listed posts, never a path outside the folder', async () => {
    const source = await postSource(work);
    expect(await resolvePost(source, 'issue-7/index.md')).toBe(join(work, 'issue-7', 'index.md'));
    expect(await resolvePost(source, '../etc/passwd')).toBeUndefined();
    expect(await resolvePost(source, '.drafts/hidden.md')).toBeUndefined();
  });

  it('previews one file when given one, and refuses what is not a post', async () => {
    const single = await postSource(join(work, 'good.md'));
    expect(await listPosts(single)).toEqual(['good.md']);
    const missing = await postSource(join(work, 'nope')).catch((e: unknown) => e);
    expect(isNewsletterError(missing, 'POST_UNREADABLE')).toBe(true);
    const text = await postSource(join(work, 'notes.txt')).catch((e: unknown) => e);
    expect(isNewsletterError(text, 'INPUT_INVALID')).toBe(true);
  });
});

describe('"Send a test" set-up', () => {
  it('names what to configure: SMTP_URL first, then the signing secret', () => {
    expect(sendTestUnavailable(config)).toMatch(/^Set SMTP_URL/);
    const withSmtp = loadConfig({ env: { NEWSLETTER_CONFIG: 'newsletter.yaml', SMTP_URL: 'smtp://127.0.0.1:2525' } });
    expect(sendTestUnavailable(withSmtp)).toMatch(/^Set NEWSLETTER_SECRET/);
    const ready = loadConfig({ env: { NEWSLETTER_CONFIG: 'newsletter.yaml', SMTP_URL: 'smtp://127.0.0.1:2525', NEWSLETTER_DEV_MODE: '1' } });
    expect(sendTestUnavailable(ready)).toBeUndefined();
  });

  it('refuses an invalid address before connecting to anything', async () => {
    const ready = loadConfig({ env: { NEWSLETTER_CONFIG: 'newsletter.yaml', SMTP_URL: 'smtp://127.0.0.1:2525', NEWSLETTER_DEV_MODE: '1' } });
    let opened = 0;
    const sender = previewTestSender(ready, async () => {
      opened += 1;
      throw new Error('must not connect');
    });
    const issue = await renderPostFile(join(work, 'good.md'), { identity: config.identity });
    const error = await sender.send(issue, 'not an address').catch((e: unknown) => e);
    expect(isNewsletterError(error, 'SUBSCRIBER_EMAIL_INVALID')).toBe(true);
    expect(opened).toBe(0);
    await sender.close();
  });
});

describe('the preview pages (no browser)', () => {
  const start = async () =>
    createPreviewServer({
      source: await postSource(work),
      identity: config.identity,
      publicUrl: config.http.publicUrl,
      sendUnavailable: sendTestUnavailable(config),
      watch: false,
    });

  it('lists every post with date, warnings and size, a broken one with its line, newest first, escaped', async () => {
    const server = await start();
    try {
      const response = await server.inject('/');
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-security-policy']).toContain("script-src 'self'");
      const body = response.body;
      expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends');
      expect(body).not.toContain('<script>alert(1)');
      expect(body).toMatch(/does not render: line \d+: front matter is not valid YAML/);
      expect(body.indexOf('In a folder')).toBeLessThan(body.indexOf('alert(1)'));
      expect(body).toMatch(/<td class="num">\d+\.\d KB<\/td>/);
    } finally {
      await server.close();
    }
  });

  it('answers a bad address from "Send a test" with 400 and the reason, as the admin API does', async () => {
    const ready = loadConfig({ env: { NEWSLETTER_CONFIG: 'newsletter.yaml', SMTP_URL: 'smtp://127.0.0.1:2525', NEWSLETTER_DEV_MODE: '1' } });
    const server = await buildPreview(ready, { source: await postSource(work), watch: false, outboxDir: join(work, 'outbox') });
    try {
      const token = /data-token="([0-9a-f]+)"/.exec((await server.inject('/post/good.md')).body)![1]!;
      const send = await server.inject({
        method: 'POST',
        url: '/send-test',
        headers: { 'x-preview-token': token },
        payload: { post: 'good.md', to: 'not an address' },
      });
      expect(send.statusCode).toBe(400);
      expect(send.json()).toMatchObject({ ok: false, message: expect.stringContaining('[SUBSCRIBER_EMAIL_INVALID]') });
    } finally {
      await server.close();
    }
  });

  it('ends open event streams when it closes, instead of waiting for them forever', async () => {
    const server = await start();
    const base = await server.listen({ port: 0, host: '127.0.0.1' });
    const reader = (await fetch(`${base}/events`)).body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('retry: 500\n\n');
    await server.close();
    expect((await reader.read()).done).toBe(true);
  });

  it('says how to configure SMTP instead of offering "Send a test" without SMTP_URL, and refuses a send', async () => {
    const server = await start();
    try {
      const page = await server.inject('/post/good.md');
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('data-testid="send-unavailable"');
      expect(page.body).toContain('Set SMTP_URL');
      const token = /data-token="([0-9a-f]+)"/.exec(page.body)![1]!;
      const send = await server.inject({
        method: 'POST',
        url: '/send-test',
        headers: { 'x-preview-token': token },
        payload: { post: 'good.md', to: 'me@example.com' },
      });
      expect(send.statusCode).toBe(503);
      expect(send.json()).toMatchObject({ ok: false });
      expect((await server.inject('/post/..%2Fsecret.md')).statusCode).toBe(404);
      expect((await server.inject('/frame/light/good.md')).headers['content-security-policy']).toContain("default-src 'none'");
    } finally {
      await server.close();
    }
  });
});
