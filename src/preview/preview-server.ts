/**
 * The local preview: a small fastify app for one editor on 127.0.0.1. It renders on
 * request, watches the posts, layouts and partials, and tells open pages to refresh.
 * Requests must name a local host (a web page elsewhere cannot reach it through DNS
 * rebinding), and "Send a test" needs the page's own token in a header (cross-site
 * forms cannot set one).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Identity } from '../config.ts';
import { isNewsletterError } from '../errors.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { statusFor } from '../http/respond.ts';
import type { Issue } from '../render/issue.ts';
import { DEFAULT_EMAILS_DIR } from '../render/templates.ts';
import { POST_FILE } from '../render/parse-post.ts';
import { listPosts, resolvePost, type PostSource } from './find-posts.ts';
import { frameDocument } from './frame-document.ts';
import { indexBody } from './index-page.ts';
import { listOutbox, readOutboxMessage } from './outbox.ts';
import { outboxMessageBody, outboxSection } from './outbox-page.ts';
import { LiveEvents } from './live-events.ts';
import { postBody, postTitle } from './post-page.ts';
import { PREVIEW_CSS, PREVIEW_JS } from './preview-assets.ts';
import { PreviewRenderer } from './preview-renderer.ts';
import { previewDocument } from './preview-shell.ts';
import { watchFolders } from './watch-files.ts';

/** Sends one test message of an issue; the CLI wires it to delivery's sendTestMessage. */
export interface TestSender {
  /** Resolves with the address as sent and the SMTP server's reply. */
  send(issue: Issue, to: string): Promise<{ to: string; reply: string }>;
  close(): Promise<void>;
}

export interface PreviewServerOptions {
  source: PostSource;
  identity: Identity;
  publicUrl: string;
  emailsDir?: string;
  baseUrl?: string;
  /** Undefined: the page explains `sendUnavailable` instead of offering the form. */
  sendTest?: TestSender;
  sendUnavailable?: string;
  /** Host names besides localhost, 127.0.0.1 and ::1 that may address the preview. */
  allowedHosts?: string[];
  watch?: boolean;
  debounceMs?: number;
  /** The folder of captured .eml files (`newsletter demo`) to list; undefined: no outbox section. */
  outboxDir?: string;
}

const PAGE_CSP =
  "default-src 'self'; img-src 'self' https: http: data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
// The email runs no script; its images and fonts may come from anywhere, as in a mail client.
const FRAME_CSP = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline' https:; font-src https: data:; frame-ancestors 'self'";

type SendPage = (reply: FastifyReply, title: string, body: SafeHtml, code?: number) => FastifyReply;

/** What the route groups below share. */
interface Preview {
  options: PreviewServerOptions;
  renderer: PreviewRenderer;
  /** Ties "Send a test" to a page this server served (cross-site forms cannot set the header). */
  token: string;
  sendPage: SendPage;
}

export async function createPreviewServer(options: PreviewServerOptions): Promise<FastifyInstance> {
  const emailsDir = options.emailsDir ?? DEFAULT_EMAILS_DIR;
  const renderer = new PreviewRenderer({ identity: options.identity, publicUrl: options.publicUrl, emailsDir, baseUrl: options.baseUrl });
  const token = randomBytes(16).toString('hex');
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
  guardRequests(app, new Set(['localhost', '127.0.0.1', '[::1]', ...(options.allowedHosts ?? [])]));
  const events = liveReload(app, options, renderer, emailsDir);
  app.addHook('onClose', async () => {
    await options.sendTest?.close();
  });
  const sendPage: SendPage = (reply, title, body, code = 200) =>
    reply
      .code(code)
      .type('text/html; charset=utf-8')
      .send(previewDocument(title, body, { generation: renderer.generation, token }));
  const preview: Preview = { options, renderer, token, sendPage };

  app.get('/_preview/preview.css', async (_request, reply) => reply.type('text/css; charset=utf-8').send(PREVIEW_CSS));
  app.get('/_preview/preview.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(PREVIEW_JS));
  app.get('/events', async (_request, reply) => events.attach(reply));
  postRoutes(app, preview);
  outboxRoutes(app, preview);
  sendTestRoute(app, preview);
  return app;
}

/** Only local host names (no DNS rebinding), and the same security headers on every answer. */
function guardRequests(app: FastifyInstance, hosts: ReadonlySet<string>): void {
  app.addHook('onRequest', async (request, reply) => {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (!hosts.has(host)) return reply.code(403).type('text/plain').send('The preview answers only on localhost.');
  });
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', PAGE_CSP);
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
  });
}

/** Watches the posts, layouts and partials; open pages hear of each change through /events. */
function liveReload(app: FastifyInstance, options: PreviewServerOptions, renderer: PreviewRenderer, emailsDir: string): LiveEvents {
  const events = new LiveEvents();
  const stopWatching =
    options.watch === false
      ? () => {}
      : watchFolders(
          [
            { dir: options.source.root, matches: POST_FILE },
            { dir: join(emailsDir, 'layouts'), matches: /\.(mjml|txt)$/ },
            { dir: join(emailsDir, 'partials'), matches: /\.mjml$/ },
          ],
          (files) => {
            renderer.invalidate();
            events.changed(renderer.generation, files);
          },
          options.debounceMs,
        );
  // Event streams never end by themselves: end them before fastify waits for open requests.
  app.addHook('preClose', async () => {
    stopWatching();
    events.close();
  });
  return events;
}

/** The index of posts, one post's page, and the email itself in a frame (light or dark). */
function postRoutes(app: FastifyInstance, { options, renderer, sendPage }: Preview): void {
  app.get('/', async (_request, reply) => {
    const rows = [];
    // One at a time: MJML is CPU-bound, and the machine is the editor's.
    for (const name of await listPosts(options.source)) rows.push({ name, outcome: await renderer.render(join(options.source.root, name)) });
    const outbox = options.outboxDir === undefined ? undefined : outboxSection(await listOutbox(options.outboxDir), options.outboxDir);
    return sendPage(reply, 'Preview', indexBody(rows, options.source.single ?? options.source.root, outbox));
  });

  app.get<{ Params: { '*': string } }>('/post/*', async (request, reply) => {
    const name = request.params['*'];
    const file = await resolvePost(options.source, name);
    if (!file) {
      const body = html`<div class="bar"><a href="/">← All posts</a></div><p class="card">There is no post named <code>${name}</code> here.</p>`;
      return sendPage(reply, 'No such post', body, 404);
    }
    const input = {
      name,
      outcome: await renderer.render(file),
      generation: renderer.generation,
      sendUnavailable: options.sendTest ? undefined : (options.sendUnavailable ?? 'Sending tests is not set up.'),
    };
    return sendPage(reply, postTitle(input), postBody(input));
  });

  app.get<{ Params: { scheme: string; '*': string } }>('/frame/:scheme/*', async (request, reply) => {
    const { scheme } = request.params;
    const file = await resolvePost(options.source, request.params['*']);
    if (!file || (scheme !== 'light' && scheme !== 'dark')) return reply.code(404).type('text/plain').send('no such frame');
    const outcome = await renderer.render(file);
    const good = outcome.ok ? outcome : outcome.lastGood;
    if (!good) return reply.code(404).type('text/plain').send('this post has not rendered yet');
    return reply.header('content-security-policy', FRAME_CSP).type('text/html; charset=utf-8').send(frameDocument(good.sample.html, scheme));
  });
}

/** The messages `newsletter demo` captured: one page each, the HTML part in a frame. */
function outboxRoutes(app: FastifyInstance, { options, sendPage }: Preview): void {
  app.get<{ Params: { '*': string } }>('/outbox/*', async (request, reply) => {
    const name = request.params['*'];
    const message = options.outboxDir === undefined ? undefined : await readOutboxMessage(options.outboxDir, name);
    if (!message) {
      const body = html`<div class="bar"><a href="/#outbox">← Outbox</a></div><p class="card">There is no captured message <code>${name}</code>.</p>`;
      return sendPage(reply, 'No such message', body, 404);
    }
    return sendPage(reply, message.subject || name, outboxMessageBody(name, message));
  });

  app.get<{ Params: { '*': string } }>('/outbox-frame/*', async (request, reply) => {
    const message = options.outboxDir === undefined ? undefined : await readOutboxMessage(options.outboxDir, request.params['*']);
    if (message?.html === undefined) return reply.code(404).type('text/plain').send('no such message');
    return reply.header('content-security-policy', FRAME_CSP).type('text/html; charset=utf-8').send(frameDocument(message.html, 'light'));
  });
}

/** "Send a test": the page's token in a header, then the post as it renders now, to one address. */
function sendTestRoute(app: FastifyInstance, { options, renderer, token }: Preview): void {
  app.post<{ Body: { post?: unknown; to?: unknown } }>('/send-test', async (request, reply) => {
    if (request.headers['x-preview-token'] !== token) return reply.code(403).send({ ok: false, message: 'Reload the preview page and try again.' });
    if (!options.sendTest) return reply.code(503).send({ ok: false, message: options.sendUnavailable ?? 'Sending tests is not set up.' });
    const file = typeof request.body?.post === 'string' ? await resolvePost(options.source, request.body.post) : undefined;
    if (!file) return reply.code(404).send({ ok: false, message: 'No such post.' });
    const outcome = await renderer.render(file);
    if (!outcome.ok) return reply.code(409).send({ ok: false, message: `The post does not render: ${outcome.error.reason}` });
    try {
      const sent = await options.sendTest.send(outcome.issue, typeof request.body?.to === 'string' ? request.body.to : '');
      return { ok: true, message: `Sent to ${sent.to}. The SMTP server said: ${sent.reply}` };
    } catch (error) {
      if (!isNewsletterError(error)) return reply.code(502).send({ ok: false, message: `The SMTP server did not take it: ${(error as Error).message}` });
      // The same status as the admin API's testTo for the same error.
      return reply.code(statusFor(error)).send({ ok: false, message: error.toOneLine() });
    }
  });
}
