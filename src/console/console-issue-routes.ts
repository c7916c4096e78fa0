/**
 * Issues: the posts under POSTS_DIR, newest first, with title, date, warnings and HTML size,
 * and one issue as the local preview shows it (email at 375/600 px and dark, text part,
 * warnings with lines), from the preview's own page pieces.
 */
import type { FastifyInstance } from 'fastify';
import { html } from '../http/html.ts';
import { frameDocument, type FrameScheme } from '../preview/frame-document.ts';
import { indexBody } from '../preview/index-page.ts';
import { postBody, postTitle } from '../preview/post-page.ts';
import { encodePostName } from '../preview/preview-shell.ts';
import { CONSOLE } from './console-document.ts';
import type { ConsoleScope } from './console-scope.ts';

// The email runs no script; its images and fonts may come from anywhere, as in a mail client.
export const FRAME_CSP = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline' https:; font-src https: data:; frame-ancestors 'self'";

export const issuePath = (name: string) => `${CONSOLE}/issues/${encodePostName(name)}`;
export const sendPath = (name: string) => `${CONSOLE}/send/${encodePostName(name)}`;

/** The `*` of a wildcard route: the post's name as listed (each segment decoded by the router). */
export function postName(params: unknown): string {
  return String((params as Record<string, string>)['*'] ?? '');
}

export async function consoleIssueRoutes(app: FastifyInstance, scope: ConsoleScope): Promise<void> {
  const { posts } = scope;

  app.get(CONSOLE, async (_request, reply) => reply.redirect(`${CONSOLE}/issues`, 303));
  app.get(`${CONSOLE}/`, async (_request, reply) => reply.redirect(`${CONSOLE}/issues`, 303));

  app.get(`${CONSOLE}/issues`, async (request, reply) => {
    const names = await posts.names();
    const rows = await Promise.all(names.map(async (name) => ({ name, outcome: (await posts.render(name))! })));
    const body = indexBody(rows, `${rows.length} post${rows.length === 1 ? '' : 's'} in POSTS_DIR`, undefined, {
      title: 'Issues',
      link: issuePath,
      live: false,
    });
    return scope.sendPage(reply, 'Issues', body, scope.context(request, 'issues'));
  });

  app.get(`${CONSOLE}/issues/*`, async (request, reply) => {
    const name = postName(request.params);
    const outcome = await posts.render(name);
    if (!outcome) return scope.notFound(request, reply, 'issues', 'There is no such post in POSTS_DIR.');
    const input = {
      name,
      outcome,
      generation: posts.generation,
      sendUnavailable: undefined,
      paths: {
        home: `${CONSOLE}/issues`,
        homeLabel: 'All issues',
        frame: (scheme: FrameScheme, post: string) => `${CONSOLE}/frame/${scheme}/${encodePostName(post)}`,
      },
      sendPanel: html`<h2>Send a test, then the issue</h2><p>On the next page: a test to one or more addresses, then the list and when, then a confirmation.</p><p><a class="button" href="${sendPath(name)}">Send…</a></p>`,
    };
    const actions = outcome.ok ? html`<p><a class="button" href="${sendPath(name)}" data-testid="send-link">Send…</a></p>` : html``;
    return scope.sendPage(reply, postTitle(input), html`${postBody(input)}${actions}`, scope.context(request, 'issues'));
  });

  app.get(`${CONSOLE}/frame/:scheme/*`, async (request, reply) => {
    const { scheme } = request.params as { scheme: string };
    const outcome = await posts.render(postName(request.params));
    const good = outcome?.ok ? outcome : outcome?.lastGood;
    if ((scheme !== 'light' && scheme !== 'dark') || !good) return reply.code(404).type('text/plain').send('No such frame.');
    // The console scope's onSend gives frames FRAME_CSP (see console-routes.ts).
    reply.type('text/html; charset=utf-8');
    return reply.send(frameDocument(good.sample.html, scheme));
  });
}
