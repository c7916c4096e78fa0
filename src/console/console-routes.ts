/**
 * The editor's console under /admin on `newsletter server` (mounted only with
 * NEWSLETTER_ADMIN_TOKEN, next to the queue dashboard): issues, send, campaigns,
 * subscribers. Server-rendered pages with one small script file from this server, under a
 * strict Content-Security-Policy (script from 'self' only, no inline script or style).
 * Every page needs the sign-in cookie (or the bearer header); every change also needs the
 * page's CSRF token (console-csrf.ts), checked before any handler runs.
 */
import type { FastifyInstance } from 'fastify';
import { requireAdminSession } from '../http/admin-session.ts';
import { sendError } from '../http/respond.ts';
import type { UnsubscribeMetrics } from '../metrics/metric-tally.ts';
import type { CampaignDeps } from '../operations/campaign-operations.ts';
import { CONSOLE_CSS, CONSOLE_JS } from './console-assets.ts';
import { consoleCampaignRoutes } from './console-campaign-routes.ts';
import { requireCsrf } from './console-csrf.ts';
import { CONSOLE } from './console-document.ts';
import { consoleIssueRoutes, FRAME_CSP } from './console-issue-routes.ts';
import { ConsolePosts } from './console-posts.ts';
import { consoleScope } from './console-scope.ts';
import { consoleSendRoutes } from './console-send-routes.ts';
import { consoleSubscriberRoutes } from './console-subscriber-routes.ts';

export interface ConsoleDeps {
  token: string;
  operations: CampaignDeps;
  postsDir: string;
  metrics?: UnsubscribeMetrics;
  now: () => Date;
}

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "frame-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function editorsConsole(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const { token, now } = deps;
  const posts = new ConsolePosts({ postsDir: deps.postsDir, identity: deps.operations.identity, publicUrl: deps.operations.publicUrl });
  const scope = consoleScope({ token, now, operations: deps.operations, posts, metrics: deps.metrics });

  app.addHook('onRequest', requireAdminSession(token, now));
  app.addHook('preHandler', requireCsrf(token, now));
  // Runs after the server's strict headers (a parent's onSend hooks run first).
  app.addHook('onSend', async (request, reply) => {
    // The sign-in form is the server's own page (an inline <style>) under the server's own policy.
    if (reply.statusCode === 401) return;
    reply.header('content-security-policy', request.routeOptions.url?.startsWith(`${CONSOLE}/frame/`) ? FRAME_CSP : CONSOLE_CSP);
  });
  app.setErrorHandler((error, request, reply) => sendError(error as Error, request, reply));

  app.get(`${CONSOLE}/_console/console.css`, async (_request, reply) => reply.type('text/css; charset=utf-8').send(CONSOLE_CSS));
  app.get(`${CONSOLE}/_console/console.js`, async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(CONSOLE_JS));
  await consoleIssueRoutes(app, scope);
  await consoleSendRoutes(app, scope);
  await consoleCampaignRoutes(app, scope);
  await consoleSubscriberRoutes(app, scope);
}
