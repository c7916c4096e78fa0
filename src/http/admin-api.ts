/**
 * The admin API under /api: every route behind the bearer token (checked before the body
 * is read, so a request without it does nothing), JSON in and out, errors as
 * `{ok: false, code, message, field?}`. Mounted only when NEWSLETTER_ADMIN_TOKEN is set.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { UnsubscribeMetrics } from '../metrics/metric-tally.ts';
import type { CampaignDeps } from '../operations/campaign-operations.ts';
import { requireAdminToken } from './admin-auth.ts';
import { adminCampaignRoutes } from './admin-campaign-routes.ts';
import { liftBodyDeadline } from './connection-limits.ts';
import { mediaType } from './admin-input.ts';
import { CSV_TYPES, adminSubscriberRoutes } from './admin-subscriber-routes.ts';
import { NewsletterError } from '../errors.ts';
import { sendApiError } from './respond.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Media types a route's body may have (default: JSON only). */
    accepts?: string[];
  }
}

export interface AdminApiDeps {
  token: string;
  operations: CampaignDeps;
  /** Where `{"post": "..."}` is read from (POSTS_DIR). */
  postsDir: string;
  /** Largest CSV body an import reads (default IMPORT_MAX_BYTES). */
  importMaxBytes?: number;
  /** Counts status changes to unsubscribed, bounced or complained (how="admin"). */
  metrics?: UnsubscribeMetrics;
}

/** A body of another type is refused before it is read (415), whatever parsers the server has. */
async function requireBodyType(request: FastifyRequest): Promise<void> {
  const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
  if (!hasBody) return;
  const accepts = request.routeOptions.config.accepts ?? ['application/json'];
  const type = mediaType(request.headers['content-type']);
  if (!accepts.includes(type)) {
    throw new NewsletterError('CONTENT_TYPE_UNSUPPORTED', `send the body as ${accepts.join(' or ')}${type ? `, not ${type}` : ''}`, { field: 'body' });
  }
}

export async function adminApi(app: FastifyInstance, deps: AdminApiDeps): Promise<void> {
  app.addHook('onRequest', requireAdminToken(deps.token));
  // Only once the token is right: imports and posts may be large and an operator's link slow.
  app.addHook('onRequest', async (request) => liftBodyDeadline(request));
  app.addHook('onRequest', requireBodyType);
  app.setErrorHandler(sendApiError);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ ok: false, code: 'INPUT_INVALID', message: `no admin route ${request.method} ${request.url.split('?')[0]}`, field: 'path' }),
  );
  // Import streams the CSV body itself (see admin-subscriber-routes.ts).
  app.addContentTypeParser(CSV_TYPES, (_request, payload, done) => done(null, payload));
  await app.register(adminCampaignRoutes, { operations: deps.operations, postsDir: deps.postsDir });
  await app.register(adminSubscriberRoutes, { subscribers: deps.operations.subscribers, importMaxBytes: deps.importMaxBytes, metrics: deps.metrics });
}
