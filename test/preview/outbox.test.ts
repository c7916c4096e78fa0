/**
 * The outbox end to end without a browser: a real SMTP client sends to the capture server,
 * which keeps .eml files with safe names; the preview lists them and shows one over HTTP.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { safeFilePart, startCaptureSmtpServer } from '../../src/demo/capture-smtp-server.ts';
import { postSource } from '../../src/preview/find-posts.ts';
import { listOutbox } from '../../src/preview/outbox.ts';
import { createPreviewServer } from '../../src/preview/preview-server.ts';

const config = loadConfig({ env: { NEWSLETTER_CONFIG: 'newsletter.yaml' } });
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'nl-outbox-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the capture SMTP server', () => {
  it('keeps every accepted message as a whole .eml file named after its recipient', async () => {
    const capture = await startCaptureSmtpServer({ dir: join(work, 'outbox', 'run-1') });
    const transport = createTransport(capture.url);
    try {
      await transport.sendMail({
        from: 'a@example.org',
        to: 'Ann.Lee+News@Example.org',
        subject: 'Première <b>',
        text: 'hello',
        html: '<p>hello <script>x()</script></p>',
      });
      await transport.sendMail({ from: 'a@example.org', to: 'ops/team=1@example.com', subject: 'second', text: 'two' });
    } finally {
      transport.close();
      await capture.close();
    }
    expect(await readdir(join(work, 'outbox', 'run-1'))).toEqual(['0001-ann.lee-news-example.org.eml', '0002-ops-team-1-example.com.eml']);
    expect(capture.files).toHaveLength(2);
    expect(safeFilePart('..')).toBe('message');
    expect(safeFilePart('../../etc/passwd')).toBe('etc-passwd');
  });

  it('is listed and shown by the preview, and nothing outside the outbox is reachable', async () => {
    await writeFile(join(work, 'outbox', 'notes.txt'), 'not a message');
    const source = await postSource('emails/posts');
    const server = await createPreviewServer({
      source,
      identity: config.identity,
      publicUrl: 'https://news.example',
      watch: false,
      outboxDir: join(work, 'outbox'),
    });
    try {
      const index = await server.inject({ url: '/', headers: { host: 'localhost' } });
      expect(index.statusCode).toBe(200);
      expect(index.body).toMatch(/<h2 id="outbox">Outbox <span class="muted">[^<]*· 2 captured messages<\/span>/);
      expect(index.body).toContain('href="/outbox/run-1/0001-ann.lee-news-example.org.eml">Première &lt;b&gt;</a>');
      expect(index.body).toContain('<td>Ann.Lee+News@example.org</td>');

      const page = await server.inject({ url: '/outbox/run-1/0001-ann.lee-news-example.org.eml', headers: { host: 'localhost' } });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<h1>Première &lt;b&gt;</h1>');
      expect(page.body).toContain('src="/outbox-frame/run-1/0001-ann.lee-news-example.org.eml"');
      expect(page.body).toMatch(/<iframe[^>]+sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"/);
      expect(page.body).toContain('<pre class="source text-part" data-testid="text-part">hello');
      expect(page.body).toMatch(/<th scope="row">Subject<\/th><td>Première &lt;b&gt;<div class="muted">=\?UTF-8\?/i);

      const frame = await server.inject({ url: '/outbox-frame/run-1/0001-ann.lee-news-example.org.eml', headers: { host: 'localhost' } });
      expect(frame.statusCode).toBe(200);
      expect(frame.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(frame.headers['content-security-policy']).not.toMatch(/script-src/);
      expect(frame.body).toContain('<p>hello <script>x()</script></p>');

      const noHtml = await server.inject({ url: '/outbox-frame/run-1/0002-ops-team-1-example.com.eml', headers: { host: 'localhost' } });
      expect(noHtml.statusCode).toBe(404);
      for (const url of [
        '/outbox/..%2F..%2Fpackage.json',
        '/outbox/run-1/../../x.eml',
        '/outbox/notes.txt',
        '/outbox/run-1/missing.eml',
        '/outbox-frame/..%2Fx.eml',
      ]) {
        const response = await server.inject({ url, headers: { host: 'localhost' } });
        expect(response.statusCode, url).toBe(404);
      }
    } finally {
      await server.close();
    }
  });

  it('lists the newest messages first and counts them all', async () => {
    const outbox = await listOutbox(join(work, 'outbox'), 1);
    expect(outbox.total).toBe(2);
    expect(outbox.entries.map((e) => e.name)).toEqual(['run-1/0002-ops-team-1-example.com.eml']);
    expect(await listOutbox(join(work, 'no-such-folder'))).toEqual({ total: 0, entries: [] });
  });
});
