/** What the console's route groups share: the operations, the posts, and how a page is answered. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, type SafeHtml } from '../http/html.ts';
import type { UnsubscribeMetrics } from '../metrics/metric-tally.ts';
import type { CampaignDeps } from '../operations/campaign-operations.ts';
import { consoleDocument, type PageContext, type Section } from './console-document.ts';
import { csrfToken, sessionOf } from './console-csrf.ts';
import type { ConsolePosts } from './console-posts.ts';

export interface ConsoleScope {
  token: string;
  now: () => Date;
  operations: CampaignDeps;
  posts: ConsolePosts;
  metrics: UnsubscribeMetrics | undefined;
  /** The CSRF token of this request's sign-in, for the page's forms. */
  context(request: FastifyRequest, section: Section): PageContext;
  sendPage(reply: FastifyReply, title: string, body: SafeHtml, context: PageContext, code?: number): FastifyReply;
  notFound(request: FastifyRequest, reply: FastifyReply, section: Section, message: string): FastifyReply;
}

export function consoleScope(deps: Omit<ConsoleScope, 'context' | 'sendPage' | 'notFound'>): ConsoleScope {
  const scope: ConsoleScope = {
    ...deps,
    context(request, section) {
      const session = sessionOf(request, deps.token, deps.now());
      return { csrf: session ? csrfToken(deps.token, session) : '', section };
    },
    sendPage(reply, title, body, context, code = 200) {
      return reply
        .code(code)
        .type('text/html; charset=utf-8')
        .send(consoleDocument(title, body, context));
    },
    notFound(request, reply, section, message) {
      return scope.sendPage(reply, 'Not found', html`<h1>Not found</h1><p>${message}</p>`, scope.context(request, section), 404);
    },
  };
  return scope;
}
