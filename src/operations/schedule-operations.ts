/**
 * Scheduling campaigns, for every edge (CLI, admin API, console), as campaign-operations.ts
 * is for the rest. The verbs:
 * - scheduleIssue: `send --at` / `POST /api/campaigns` with scheduledAt. The post is rendered
 *   and checked by the caller now; the campaign is created now, scheduled, with that snapshot.
 *   Again for the same post and list before it starts: the new rendering and time replace the old.
 * - rescheduleCampaign: `campaign schedule <id> --at` (a draft or scheduled campaign; its snapshot stays).
 * - unscheduleCampaign: `campaign unschedule <id>`: a draft again, it starts only when told.
 * - startCampaign: `campaign start <id>`: a draft or scheduled campaign starts now, with its snapshot.
 * All refuse once the campaign has started (CAMPAIGN_STATE_INVALID: exit 1, HTTP 409).
 */
import type { Campaign } from '../campaign/campaign.ts';
import { isUnstarted } from '../campaign/campaign.ts';
import { planCampaign } from '../campaign/plan.ts';
import { checkFuture, checkTimeZone, parseScheduleTime, type ScheduleTimeFields } from '../campaign/schedule-time.ts';
import { startNow } from '../campaign/start-scheduled.ts';
import { NewsletterError } from '../errors.ts';
import type { Issue } from '../render/issue.ts';
import { parseListName } from '../subscribers/subscriber.ts';
import { startDeps, type CampaignDeps } from './campaign-operations.ts';

/** The zone a time without an offset is read in: the one given, else newsletter.yaml's `timezone`, else the machine's. */
export function scheduleTimeZone(deps: Pick<CampaignDeps, 'identity'>, given?: string, field = '--tz'): string {
  if (given !== undefined) return checkTimeZone(given, field);
  return deps.identity.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * Reads a start time as the editor wrote it (see campaign/schedule-time.ts): a wall time in
 * `zone` (default: scheduleTimeZone) or ISO 8601 with an offset; refuses DST gaps, overlaps
 * without an offset, times in the past, unknown zones.
 */
export function readStartTime(
  deps: Pick<CampaignDeps, 'identity' | 'now'>,
  text: string,
  { zone, requireOffset = false, fields = { at: '--at', tz: '--tz' } }: { zone?: string; requireOffset?: boolean; fields?: ScheduleTimeFields } = {},
): Date {
  const resolved = requireOffset ? 'UTC' : scheduleTimeZone(deps, zone, fields.tz);
  return parseScheduleTime({ text, zone: resolved, zoneGiven: zone !== undefined, requireOffset, now: deps.now(), fields });
}

/**
 * The rendered issue to `list`, starting at `at`: the campaign exists from now on (state
 * `scheduled`, its snapshot this rendering) and starts at that time, whatever process is
 * running then. `field` names the time for the caller's user.
 */
export async function scheduleIssue(deps: CampaignDeps, issue: Issue, request: { list: string; at: Date; field?: string }): Promise<Campaign> {
  const list = parseListName(request.list, { field: 'list' });
  checkFuture(request.at, deps.now(), request.field ?? 'at');
  const { campaign, snapshot } = planCampaign({ issue, list, now: deps.now(), publicUrl: deps.publicUrl });
  const created = await deps.campaigns.create({ ...campaign, state: 'draft' }, snapshot);
  await deps.schedule.schedule(campaign.id, request.at, created ? undefined : snapshot);
  return deps.campaigns.require(campaign.id);
}

/** A draft or scheduled campaign starts at `at` instead (with the snapshot it has). */
export async function rescheduleCampaign(deps: CampaignDeps, id: string, at: Date, field = 'at'): Promise<Campaign> {
  checkFuture(at, deps.now(), field);
  await deps.schedule.schedule(id, at);
  return deps.campaigns.require(id);
}

/** A scheduled campaign becomes a draft: nothing is sent until it is scheduled or started again. */
export async function unscheduleCampaign(deps: CampaignDeps, id: string): Promise<Campaign> {
  await deps.schedule.unschedule(id);
  return deps.campaigns.require(id);
}

/** A draft or scheduled campaign starts now, with the snapshot rendered when it was created. */
export async function startCampaign(deps: CampaignDeps, id: string): Promise<Campaign> {
  const campaign = await deps.campaigns.require(id);
  if (!isUnstarted(campaign)) {
    throw new NewsletterError('CAMPAIGN_STATE_INVALID', `campaign ${id} is ${campaign.state}: only a draft or scheduled campaign can be started`, {
      field: 'campaign',
    });
  }
  return startNow(startDeps(deps), id);
}
