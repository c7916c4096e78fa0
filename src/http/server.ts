/**
 * The web server: unsubscribe (GET page, POST one-click), subscribe with double opt-in
 * (GET page, POST confirms), the archive, health. createServer returns the fastify instance, unstarted, so tests listen on port 0.
 */
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { RedisClient } from '../redis/redis-client.ts';
import type { CampaignStore } from '../campaign/campaign-store.ts';
import type { Identity } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { UnsubscribeMetrics } from '../metrics/metric-tally.ts';
import type { SubscriberStore } from '../subscribers/subscriber-store.ts';
import type { SigningSecrets } from '../subscribers/tokens.ts';
import { archiveRoutes } from './archive-routes.ts';
import { IssueArchive } from './archive-reader.ts';
import { adminApi, type AdminApiDeps } from './admin-api.ts';
import { confirmRoutes } from './confirm-routes.ts';
import { applyConnectionLimits, CONNECTION_LIMITS, serverTimeoutOptions, type ConnectionLimits } from './connection-limits.ts';
import { html, page } from './html.ts';
import { queueDashboard } from './queue-dashboard.ts';
import { metricsRoute, type MetricsRouteDeps } from './metrics-route.ts';
import { sendError } from './respond.ts';
import { subscribeRoutes, type MailSender } from './subscribe-routes.ts';
import { unsubscribeRoutes } from './unsubscribe-routes.ts';

export interface ServerDeps {
  subscribers: SubscriberStore;
  secrets: SigningSecrets;
  publicUrl: string;
  identity: Pick<Identity, 'name' | 'fromName' | 'fromAddress' | 'replyTo' | 'siteUrl'>;
  mailer: MailSender | undefined;
  /** Answers /healthz: resolves when Redis answers. */
  ping: () => Promise<unknown>;
  /** When given, rate limits are kept in Redis and hold across server processes. */
  rateLimitStore?: { redis: RedisClient; prefix: string };
  /** Per client address; defaults: subscribe 10 per 15 minutes, confirmation links 60 per minute. Unsubscribe is never limited. */
  limits?: { subscribe?: { max: number; timeWindow: number }; links?: { max: number; timeWindow: number } };
  confirmationWindowSeconds?: number;
  /** From createLogger; request lines get their URL tokens redacted. No logger, no request logs. */
  logger?: Logger;
  /** Counts unsubscribes and how long each took to store. */
  unsubscribeMetrics?: UnsubscribeMetrics;
  /** When given, GET /metrics serves the fleet's metrics behind the admin token. */
  metrics?: MetricsRouteDeps;
  /** Behind a reverse proxy, take the client address from X-Forwarded-For. */
  trustProxy?: boolean | number | string[];
  /** When given (NEWSLETTER_ADMIN_TOKEN is set): the admin API under /api and the queue dashboard at /admin/queues, behind that token. */
  admin?: AdminApiDeps;
  /** With `admin`: the editor's console under /admin (src/console/), wired by the web server process; sign-in lands there. */
  adminConsole?: FastifyPluginAsync;
  /** Timeouts and the connection cap; each one left out is CONNECTION_LIMITS's (tests pass short ones). */
  connectionLimits?: Partial<ConnectionLimits>;
  /** When given, past issues are public at /issues, /issues/:slug (the "view in browser" link) and /feed.xml. */
  archive?: { campaigns: Pick<CampaignStore, 'list' | 'get' | 'getSnapshot'>; language?: string };
  /** The clock the routes read (the archive's cache age, admin sessions' expiry); tests pass their own. Default: the system clock. */
  now?: () => Date;
  /** BOUNCE_DOMAIN: confirmation emails get their own signed return path. */
  bounceDomain?: string;
}

/** Tokens are credentials: keep them out of every log line. */
export function redactUrl(url: string): string {
  return (
    url
      .replace(/\/(unsubscribe|confirm)\/[^/?#]*/g, '/$1/[redacted]')
      // Addresses are personal data: /api/subscribers/<email> is logged without it.
      .replace(/(\/api\/subscribers\/)[^/?#]*(@|%40)[^/?#]*/gi, '$1[redacted]')
  );
}

function trustHops(hops: number) {
  return (_address: string, hop: number) => hop < hops;
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  // The token is in the URL: never send it on to another site.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export async function createServer(deps: ServerDeps): Promise<FastifyInstance> {
  const now = deps.now ?? (() => new Date());
  const limits = { ...CONNECTION_LIMITS, ...deps.connectionLimits };
  const app = Fastify({
    ...serverTimeoutOptions(limits),
    loggerInstance: deps.logger?.child(
      {},
      {
        serializers: {
          req: (request: { method: string; url: string; ip?: string }) => ({ method: request.method, url: redactUrl(request.url), ip: request.ip }),
        },
      },
    ) as FastifyBaseLogger | undefined,
    bodyLimit: 16 * 1024,
    // A hop count means: trust that many proxies in front (fastify's types take it as a function).
    trustProxy: typeof deps.trustProxy === 'number' ? trustHops(deps.trustProxy) : (deps.trustProxy ?? false),
    // The router's own refusals (a malformed URL, a path parameter over its length such as a
    // 5,000-character token) answer like every other error: our code, no echo of the URL. The
    // reply is thenable, and this hook is not awaited: `void` says nothing waits for it.
    frameworkErrors: (error, request, reply) => void sendError(error, request, reply),
  });
  const inFlight = new Set<Promise<unknown>>();
  applyConnectionLimits(app, limits);

  app.setErrorHandler((error, request, reply) => sendError(error as Error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return page('Page not found', html`<p>There is nothing at this address.</p>`);
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  app.addHook('onClose', async () => {
    await Promise.allSettled([...inFlight]);
  });

  await app.register(formbody);
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fields: 10, fieldSize: 2048, files: 0, fileSize: 0, parts: 10 },
  });
  await app.register(rateLimit, {
    global: false,
    ...(deps.rateLimitStore
      ? { redis: deps.rateLimitStore.redis, nameSpace: `${deps.rateLimitStore.prefix}:{${deps.rateLimitStore.prefix}}:rate-limit:` }
      : {}),
  });

  const links = deps.limits?.links ?? { max: 60, timeWindow: 60_000 };
  const subscribe = deps.limits?.subscribe ?? { max: 10, timeWindow: 15 * 60_000 };

  await app.register(unsubscribeRoutes, {
    subscribers: deps.subscribers,
    secrets: deps.secrets,
    newsletterName: deps.identity.name,
    metrics: deps.unsubscribeMetrics,
  });
  await app.register(subscribeRoutes, {
    subscribers: deps.subscribers,
    secrets: deps.secrets,
    publicUrl: deps.publicUrl,
    identity: deps.identity,
    mailer: deps.mailer,
    rateLimit: subscribe,
    confirmationWindowSeconds: deps.confirmationWindowSeconds ?? 600,
    inFlight,
    bounceDomain: deps.bounceDomain,
  });
  await app.register(confirmRoutes, { subscribers: deps.subscribers, secrets: deps.secrets, newsletterName: deps.identity.name, rateLimit: links });

  if (deps.archive) {
    await app.register(archiveRoutes, {
      archive: new IssueArchive({ campaigns: deps.archive.campaigns, now: () => now().getTime() }),
      publicUrl: deps.publicUrl,
      newsletterName: deps.identity.name,
      language: deps.archive.language,
    });
  }

  if (deps.metrics) await app.register(metricsRoute, deps.metrics);

  if (deps.admin) {
    await app.register(adminApi, { prefix: '/api', ...deps.admin });
    const landing = deps.adminConsole ? '/admin/issues' : undefined;
    await app.register(queueDashboard, { token: deps.admin.token, queue: deps.admin.operations.queue(), now, landing });
    if (deps.adminConsole) await app.register(deps.adminConsole);
  }

  app.get('/healthz', async (_request, reply) => {
    try {
      await deps.ping();
      return { ok: true };
    } catch {
      reply.code(503);
      return { ok: false, redis: 'unreachable' };
    }
  });

  return app;
}
