/**
 * Admin API (mounted under /api), posts and campaigns: render a post (a post under POSTS_DIR
 * or Markdown in the body); create and send (a list, a test address or a dry run; now or at
 * `scheduledAt`), list, status, failures, schedule, unschedule, start, pause, resume, cancel,
 * resend to the failed. Each route parses its input, calls the same operation as the CLI
 * command of the same name, and answers JSON.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  campaignFailures,
  campaignStatus,
  cancel,
  listCampaigns,
  parseSendTarget,
  pause,
  resendToFailed,
  resume,
  sendIssue,
  type CampaignDeps,
} from '../operations/campaign-operations.ts';
import { renderFromSource, type PostSource } from '../operations/post-source.ts';
import { readStartTime, rescheduleCampaign, scheduleIssue, startCampaign, unscheduleCampaign } from '../operations/schedule-operations.ts';
import { NewsletterError } from '../errors.ts';
import { noBody, parseInput, queryInt } from './admin-input.ts';

export interface AdminCampaignRouteDeps {
  operations: CampaignDeps;
  postsDir: string;
}

/** Markdown sent in the body; the whole JSON body may be a little larger (escapes, other fields). */
export const MARKDOWN_MAX_CHARS = 5_000_000;
export const CREATE_BODY_LIMIT = 6 * 1024 * 1024;

/** Where the post comes from: one of a path under POSTS_DIR or Markdown with its slug. */
const sourceFields = {
  post: z.string().min(1).max(1000).optional(),
  markdown: z.string().min(1).max(MARKDOWN_MAX_CHARS).optional(),
  slug: z.string().optional(),
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
};

function checkSource(body: { post?: string; markdown?: string; slug?: string }, context: z.RefinementCtx): void {
  if ((body.post === undefined) === (body.markdown === undefined)) {
    context.addIssue({ code: 'custom', path: ['post'], message: 'give exactly one of "post" (a path under POSTS_DIR) or "markdown" (the post itself)' });
  }
  if (body.markdown !== undefined && body.slug === undefined) {
    context.addIssue({ code: 'custom', path: ['slug'], message: 'Markdown in the body needs a "slug": it names the issue and the campaign (<slug>--<list>)' });
  }
  if (body.post !== undefined && body.slug !== undefined) {
    context.addIssue({ code: 'custom', path: ['slug'], message: 'a post from POSTS_DIR takes its slug from its file name' });
  }
}

const sourceOf = (body: { post?: string; markdown?: string; slug?: string }): PostSource =>
  body.post !== undefined ? { post: body.post } : { markdown: body.markdown!, slug: body.slug! };

const renderBody = z.strictObject(sourceFields).superRefine(checkSource);
const createBody = z
  .strictObject({
    ...sourceFields,
    list: z.string().optional(),
    testTo: z.string().optional(),
    dryRun: z.boolean().optional(),
    scheduledAt: z.string().max(100).optional(),
  })
  .superRefine(checkSource);
const scheduleBody = z.strictObject({ scheduledAt: z.string().max(100) });

/** ISO 8601 with an offset, in the future: there is no time zone to read a bare wall time in. */
const startTimeOf = (ops: CampaignDeps, text: string) => readStartTime(ops, text, { requireOffset: true, fields: { at: 'scheduledAt', tz: 'scheduledAt' } });

const idParams = z.strictObject({ id: z.string().min(1).max(250) });
const limitQuery = (fallback: number, max: number) => z.strictObject({ limit: queryInt(1, max).optional() }).transform((q) => q.limit ?? fallback);

export async function adminCampaignRoutes(app: FastifyInstance, deps: AdminCampaignRouteDeps): Promise<void> {
  const ops = deps.operations;

  app.post('/campaigns', { bodyLimit: CREATE_BODY_LIMIT }, async (request, reply) => {
    const body = parseInput(createBody, request.body, 'body');
    const target = parseSendTarget({ list: body.list, testTo: body.testTo });
    const at = body.scheduledAt === undefined ? undefined : startTimeOf(ops, body.scheduledAt);
    if (at && (target.testTo || body.dryRun)) {
      throw new NewsletterError('INPUT_INVALID', 'scheduledAt schedules a campaign to a list; it does not go with testTo or dryRun', { field: 'scheduledAt' });
    }
    // Rendered and checked now: a broken post fails when it is scheduled, not at its time.
    const issue = await renderFromSource(sourceOf(body), { postsDir: deps.postsDir, identity: ops.identity, baseUrl: body.baseUrl });
    if (at) {
      const campaign = await scheduleIssue(ops, issue, { list: target.list!, at, field: 'scheduledAt' });
      reply.code(202).header('location', `/api/campaigns/${encodeURIComponent(campaign.id)}`);
      return { ok: true, kind: 'scheduled', campaign, warnings: issue.warnings };
    }
    const result = await sendIssue(ops, issue, { ...target, dryRun: body.dryRun });
    // Accepted: the workers send it from here on; the campaign's own URL shows how far they are.
    if (result.kind === 'campaign') reply.code(202).header('location', `/api/campaigns/${encodeURIComponent(result.campaign.id)}`);
    return { ok: true, ...result, warnings: issue.warnings };
  });

  // As `newsletter render`: the issue itself, nothing stored or sent.
  app.post('/render', { bodyLimit: CREATE_BODY_LIMIT }, async (request) => {
    const body = parseInput(renderBody, request.body, 'body');
    const { slug, subject, preheader, html, text, warnings } = await renderFromSource(sourceOf(body), {
      postsDir: deps.postsDir,
      identity: ops.identity,
      baseUrl: body.baseUrl,
    });
    return { ok: true, slug, subject, preheader, html, text, warnings };
  });

  app.get('/campaigns', async (request) => {
    const limit = parseInput(limitQuery(100, 1000), request.query, 'query');
    return { ok: true, campaigns: await listCampaigns(ops, limit) };
  });

  app.get('/campaigns/:id', async (request) => {
    const { id } = parseInput(idParams, request.params, 'path');
    parseInput(z.strictObject({}), request.query, 'query');
    return { ok: true, campaign: await campaignStatus(ops, id) };
  });

  app.get('/campaigns/:id/failures', async (request) => {
    const { id } = parseInput(idParams, request.params, 'path');
    const limit = parseInput(limitQuery(0, 100_000), request.query, 'query');
    return { ok: true, ...(await campaignFailures(ops, id, limit)) };
  });

  app.post('/campaigns/:id/schedule', async (request) => {
    const { id } = parseInput(idParams, request.params, 'path');
    const { scheduledAt } = parseInput(scheduleBody, request.body, 'body');
    return { ok: true, campaign: await rescheduleCampaign(ops, id, startTimeOf(ops, scheduledAt), 'scheduledAt') };
  });

  for (const [action, run] of [
    ['pause', pause],
    ['resume', resume],
    ['cancel', cancel],
    ['unschedule', unscheduleCampaign],
    ['start', startCampaign],
  ] as const) {
    app.post(`/campaigns/:id/${action}`, async (request) => {
      const { id } = parseInput(idParams, request.params, 'path');
      parseInput(noBody, request.body, 'body');
      return { ok: true, campaign: await run(ops, id) };
    });
  }

  app.post('/campaigns/:id/resend', async (request) => {
    const { id } = parseInput(idParams, request.params, 'path');
    // As `campaign resend --failed`: only re-sending to the failed exists, and the caller says so.
    const { includeUnknown } = parseInput(
      z.strictObject({ failed: z.literal(true, 'must be true: only re-sending to the failed recipients exists'), includeUnknown: z.boolean().optional() }),
      request.body ?? {},
      'body',
    );
    return { ok: true, ...(await resendToFailed(ops, id, { includeUnknown })) };
  });
}
