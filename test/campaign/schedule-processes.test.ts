/**
 * Scheduled starts with real processes in real time: `newsletter worker` and `newsletter
 * server` processes on a real Redis prefix, all polling, sending to a real SMTP server.
 * The start lives in Redis, so it happens once whoever runs, restarts or comes up late.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Campaign } from '../../src/campaign/campaign.ts';
import { ScheduleStore } from '../../src/campaign/schedule-store.ts';
import { LATE_AFTER_MS } from '../../src/campaign/start-scheduled.ts';
import { fleetMetricsKey } from '../../src/metrics/fleet-counters.ts';
import { campaignDeps } from '../../src/operations/campaign-operations.ts';
import { rescheduleCampaign, scheduleIssue, unscheduleCampaign } from '../../src/operations/schedule-operations.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';
import { startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { processesPerTest } from '../helpers/processes.ts';
import { runCli } from '../helpers/run-cli.ts';

const POST = 'emails/posts/sofa-weekly-2019-11-01.md';
const processes = processesPerTest();
let harness: Harness | undefined;
afterEach(async () => {
  await processes.killAll();
  await harness?.close();
  harness = undefined;
});

/** Every recipient got exactly one message, each with its own Message-ID. */
function expectEachOnce(h: Harness, emails: string[]): void {
  const ids = h.smtp.messages.map((m) => m.messageId);
  expect(new Set(ids).size).toBe(ids.length);
  expect(h.smtp.messages.flatMap((m) => m.to).sort()).toEqual([...emails].sort());
}

const claims = (h: Harness, id = h.campaignId) => new ScheduleStore({ redis: h.app.redis, prefix: h.prefix }).claims(id);

function waitForCampaign(h: Harness, id: string, predicate: (c: Campaign) => boolean, timeout = 30_000): Promise<Campaign> {
  return vi.waitFor(
    async () => {
      const c = await h.app.campaigns.require(id);
      if (!predicate(c)) throw new Error(`campaign ${id}: ${JSON.stringify(c)}`);
      return c;
    },
    { timeout, interval: 50 },
  );
}

/** Resolves once the clock has passed `ms` (a time, not a pause: nothing is assumed to have happened meanwhile). */
const clockPasses = (ms: number) =>
  vi.waitFor(
    () => {
      if (Date.now() <= ms) throw new Error('not yet');
    },
    { timeout: ms - Date.now() + 5_000, interval: 50 },
  );

describe('scheduled campaigns with real processes', () => {
  it('a campaign scheduled 2 s ahead starts exactly once with three workers and two servers polling', async () => {
    const h = (harness = await startHarness());
    const emails = (await h.addSubscribers(12)).map((s) => s.email);
    await Promise.all([processes.worker(h.env), processes.worker(h.env), processes.worker(h.env), processes.server(h.env), processes.server(h.env)]);
    const at = new Date(Date.now() + 2_000);
    const sent = await runCli(['send', POST, '--list', 'weekly', '--at', at.toISOString(), '--json'], { env: h.env });
    expect(sent.stderr).not.toMatch(/Error|\[/);
    expect(JSON.parse(sent.stdout)).toEqual({ campaignId: h.campaignId, state: 'scheduled', scheduledAt: at.toISOString() });

    const done = await waitForCampaign(h, h.campaignId, (c) => c.state === 'completed');
    expect(done).toMatchObject({ total: 12, accepted: 12, batches: 1 });
    expect(Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(at.getTime());
    expectEachOnce(h, emails);
    expect(await claims(h)).toBe(1);
  });

  it('one scheduled while no worker or server runs starts when a worker comes up, late, with a log line and the metric', async () => {
    const h = (harness = await startHarness({ env: { METRICS_FLUSH_MS: '100' } }));
    const emails = (await h.addSubscribers(3)).map((s) => s.email);
    // A wall time, read in the zone --tz names.
    const at = new Date(Math.ceil((Date.now() + 2_000) / 1000) * 1000);
    const wall = new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    const sent = await runCli(['send', POST, '--list', 'weekly', '--at', wall, '--tz', 'Asia/Shanghai'], { env: h.env });
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain(`scheduled for ${wall} Asia/Shanghai (+08:00) = ${at.toISOString()}`);
    const listed = await runCli(['campaign', 'list', '--tz', 'America/New_York'], { env: h.env });
    expect(listed.stdout).toMatch(
      new RegExp(`${h.campaignId}\\tscheduled\\t.*starts \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d America/New_York \\(-0[45]:00\\) = ${at.toISOString()}`),
    );

    await clockPasses(at.getTime() + LATE_AFTER_MS + 500);
    expect(await h.app.campaigns.require(h.campaignId)).toMatchObject({ state: 'scheduled', total: 0 });
    const worker = await processes.worker(h.env);
    await waitForCampaign(h, h.campaignId, (c) => c.state === 'completed');
    expectEachOnce(h, emails);
    await vi.waitFor(() => expect(worker.stdout()).toMatch(/"lateSeconds":\d.*scheduled campaign started late/), { timeout: 5_000 });
    const metrics = await vi.waitFor(
      async () => {
        const hash = await h.app.redis.hgetall(fleetMetricsKey(h.prefix));
        if (!hash['newsletter_schedule_late_seconds_sum']) throw new Error('not flushed yet');
        return hash;
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(Number(metrics['newsletter_schedule_late_seconds_sum'])).toBeGreaterThan(LATE_AFTER_MS / 1000);
  });

  it('restarting every process between scheduling and firing loses nothing and sends once', async () => {
    const h = (harness = await startHarness());
    const emails = (await h.addSubscribers(6)).map((s) => s.email);
    const first = await Promise.all([processes.worker(h.env), processes.server(h.env)]);
    const at = new Date(Date.now() + 3_000);
    await scheduleIssue(campaignDeps(h.app), deliveryIssue, { list: 'weekly', at });
    await Promise.all([first[0].stop('SIGKILL'), first[1].spawned.stop('SIGKILL')]);
    expect(await h.app.campaigns.require(h.campaignId)).toMatchObject({ state: 'scheduled' });
    await Promise.all([processes.worker(h.env), processes.server(h.env)]);
    const done = await waitForCampaign(h, h.campaignId, (c) => c.state === 'completed');
    expect(Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(at.getTime());
    expectEachOnce(h, emails);
    expect(await claims(h)).toBe(1);
  });

  it('an unscheduled campaign sends nothing and a rescheduled one fires at its new time, not the old; both refused once started', async () => {
    const h = (harness = await startHarness());
    await h.addSubscribers(3);
    await processes.worker(h.env);
    const deps = campaignDeps(h.app);
    const old = new Date(Date.now() + 2_000);
    const moved = new Date(Date.now() + 5_000);
    // Scheduled for the old time and left there: once it has completed, the scheduler has passed the old time.
    const witness = await scheduleIssue(deps, { ...deliveryIssue, slug: 'witness' }, { list: 'weekly', at: old });
    const dropped = await scheduleIssue(deps, { ...deliveryIssue, slug: 'dropped' }, { list: 'weekly', at: old });
    await scheduleIssue(deps, deliveryIssue, { list: 'weekly', at: old });
    await unscheduleCampaign(deps, dropped.id);
    await rescheduleCampaign(deps, h.campaignId, moved);

    await waitForCampaign(h, witness.id, (c) => c.state === 'completed');
    expect(await h.app.campaigns.require(dropped.id)).toMatchObject({ state: 'draft', total: 0 });
    expect(await h.app.campaigns.require(h.campaignId)).toMatchObject({ state: 'scheduled', total: 0 });
    expect(h.smtp.messages).toHaveLength(3);

    const done = await waitForCampaign(h, h.campaignId, (c) => c.state === 'completed');
    expect(Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(moved.getTime());
    expect(h.smtp.messages).toHaveLength(6);
    expect(await h.app.campaigns.require(dropped.id)).toMatchObject({ state: 'draft', total: 0 });

    const reschedule = await runCli(['campaign', 'schedule', h.campaignId, '--at', new Date(Date.now() + 3600_000).toISOString()], { env: h.env });
    expect(reschedule.code).toBe(1);
    expect(reschedule.stderr).toMatch(/completed.*before it starts.*\[CAMPAIGN_STATE_INVALID\]/);
    const unschedule = await runCli(['campaign', 'unschedule', h.campaignId], { env: h.env });
    expect(unschedule.code).toBe(1);
    expect(unschedule.stderr).toMatch(/\[CAMPAIGN_STATE_INVALID\]/);
    // The draft starts when told to.
    const start = await runCli(['campaign', 'start', dropped.id, '--json'], { env: h.env });
    expect(start.code).toBe(0);
    await waitForCampaign(h, dropped.id, (c) => c.state === 'completed');
    expect(h.smtp.messages).toHaveLength(9);
  });
});
