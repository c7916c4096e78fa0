/**
 * GET /metrics: the fleet's metrics in Prometheus text format, behind the admin bearer
 * token (a scrape config sets `authorization: { credentials: <NEWSLETTER_ADMIN_TOKEN> }`).
 * Figures are read when scraped, so any one web server answers for every worker and server.
 */
import type { FastifyInstance } from 'fastify';
import { createScrapeRegistry, type ScrapeSources } from '../metrics/scrape-registry.ts';
import { requireAdminToken } from './admin-auth.ts';

export interface MetricsRouteDeps {
  adminToken: string;
  sources: ScrapeSources;
}

export async function metricsRoute(app: FastifyInstance, deps: MetricsRouteDeps): Promise<void> {
  const registry = createScrapeRegistry(deps.sources);
  // Registered as a plain plugin, so the guard covers this route only.
  app.addHook('onRequest', requireAdminToken(deps.adminToken));
  app.get('/metrics', async (_request, reply) => {
    const body = await registry.metrics();
    reply.type(registry.contentType);
    return body;
  });
}
