/**
 * Bull Board at /admin/queues over the delivery queue, behind the admin token (bearer
 * header or the /admin/login session cookie, see admin-session.ts).
 *
 * Read-only: it shows batches waiting, active, delayed (parked by a pause, or backing off)
 * and failed, with their data and errors, but cannot retry, remove or clean them. Steering
 * goes through `newsletter campaign ...` or the admin API, which keep the ledger and the
 * counters right; a batch job removed by hand would leave its recipients unsettled and
 * its campaign never completed.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { adminSessionRoutes, requireAdminSession } from './admin-session.ts';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * The board's own scripts, styles and JSON API, nothing else: no inline script (its config is
 * an inert JSON block), no remote fonts (it falls back to system fonts), no framing.
 */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function queueDashboard(app: FastifyInstance, deps: { token: string; queue: Queue; now: () => Date; landing?: string }): Promise<void> {
  await app.register(adminSessionRoutes, { token: deps.token, landing: deps.landing ?? `${QUEUE_DASHBOARD_PATH}/`, now: deps.now });
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireAdminSession(deps.token, deps.now));
    // Runs after the server's strict headers (a parent's onSend hooks run first): relaxed here only.
    scope.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', DASHBOARD_CSP);
    });
    const board = new FastifyAdapter();
    createBullBoard({
      queues: [new BullMQAdapter(deps.queue, { readOnlyMode: true, description: 'Batches of up to 100 recipients of a campaign' })],
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'Newsletter deliveries' } },
    });
    board.setBasePath(QUEUE_DASHBOARD_PATH);
    await scope.register(board.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
  });
}
