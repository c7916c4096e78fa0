/**
 * Scheduling in one process against real Redis and a real SMTP server: what is decided at
 * scheduling time (the rendering), what at firing time (the list, its recipients), the claim
 * that lets one poller start a campaign, and the admin API's schedule routes. The scheduler's
 * clock is moved forward instead of waiting; test/campaign/schedule-processes.test.ts runs the
 * real processes in real time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScheduleStore } from '../../src/campaign/schedule-store.ts';
import { startDueCampaigns, startIfDue, type StartScheduledDeps } from '../../src/campaign/start-scheduled.ts';
import { campaignDeps, sendIssue } from '../../src/operations/campaign-operations.ts';
import { rescheduleCampaign, scheduleIssue, startCampaign, unscheduleCampaign } from '../../src/operations/schedule-operations.ts';
import { scheduleDeps } from '../../src/processes/scheduler.ts';
import { isNewsletterError } from '../../src/errors.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';
import { SEED_POST, startAdminServer, type AdminServer } from '../helpers/admin-server.ts';
import { IDLE, startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { runCli } from '../helpers/run-cli.ts';

let harness: Harness | undefined;
let admin: AdminServer | undefined;
afterEach(async () => {
  await harness?.close();
  await admin?.close();
  harness = admin = undefined;
});

const HOUR = 3600_000;
const inAnHour = () => new Date(Date.now() + HOUR);
/** The scheduler's dependencies with its clock at `at`. */
const clockAt = (h: Harness, at: Date): StartScheduledDeps => ({ ...scheduleDeps(h.app), now: () => at });
const later = (at: Date, ms = 1000) => new Date(at.getTime() + ms);

async function refusedWith(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isNewsletterError(error) ? error.code : error).toBe(code);
}

describe('scheduling a campaign', () => {
  it('creates it now with the rendering of now, and plans its recipients when it starts', async () => {
    const h = (harness = await startHarness());
    await h.addSubscribers(2);
    const at = inAnHour();
    const scheduled = await scheduleIssue(campaignDeps(h.app), deliveryIssue, { list: 'weekly', at });
    expect(scheduled).toMatchObject({ id: h.campaignId, state: 'scheduled', scheduledAt: at.toISOString(), total: 0 });
    expect((await h.app.campaigns.getSnapshot(h.campaignId))!.subject).toBe(deliveryIssue.subject);
    // Not due yet: nothing starts.
    expect(await startDueCampaigns(clockAt(h, new Date()))).toBe(0);
    await h.addSubscribers(5);
    expect(await startDueCampaigns(clockAt(h, later(at)))).toBe(1);
    const started = await h.app.campaigns.require(h.campaignId);
    expect(started).toMatchObject({ state: 'running', total: 5 });
    h.startWorker();
    await h.waitFor((c) => c.state === 'completed');
    expect(h.smtp.messages).toHaveLength(5);
    expect(h.smtp.messages.every((m) => m.raw.includes('end = of issue') || m.raw.includes('end =3D of issue'))).toBe(true);
  });

  it('is claimed by one poller only, however many look at once', async () => {
    const h = (harness = await startHarness());
    await h.addSubscribers(3);
    const at = inAnHour();
    await scheduleIssue(campaignDeps(h.app), deliveryIssue, { list: 'weekly', at });
    const apps = await Promise.all([h.newApp(), h.newApp(), h.newApp()]);
    const pollers = [h.app, ...apps].map((app) => ({ ...scheduleDeps(app), now: () => later(at) }));
    const outcomes = await Promise.all(pollers.flatMap((deps) => [startIfDue(deps, h.campaignId), startIfDue(deps, h.campaignId)]));
    expect(outcomes.filter((o) => o === 'started')).toHaveLength(1);
    expect(await new ScheduleStore({ redis: h.app.redis, prefix: h.prefix }).claims(h.campaignId)).toBe(1);
    expect(await h.batches()).toMatchObject({ waiting: 1 });
  });

  it('is taken over when its claimer died before enqueueing (its lease ran out), and enqueued once', async () => {
    const h = (harness = await startHarness());
    await h.addSubscribers(3);
    const at = inAnHour();
    await scheduleIssue(campaignDeps(h.app), deliveryIssue, { list: 'weekly', at });
    const store = new ScheduleStore({ redis: h.app.redis, prefix: h.prefix });
    // A claimer that dies right after its claim.
    expect(await store.claim(h.campaignId, later(at), 60_000)).toBe('claimed');
    expect(await startIfDue(clockAt(h, later(at, 2000)), h.campaignId)).toBe('not-ours');
    expect(await startIfDue(clockAt(h, later(at, 62_000)), h.campaignId)).toBe('started');
    expect(await h.app.campaigns.require(h.campaignId)).toMatchObject({ state: 'running', total: 3, batches: 1 });
    expect(await store.due(later(at, HOUR))).toEqual([]);
  });

  it('ends cancelled, with the reason, when its list has no members left at its time', async () => {
    const h = (harness = await startHarness());
    const members = await h.addSubscribers(2);
    const at = inAnHour();
    await scheduleIssue(campaignDeps(h.app), deliveryIssue, { list: 'weekly', at });
    for (const m of members) await h.app.subscribers.remove(m.id);
    expect(await startIfDue(clockAt(h, later(at)), h.campaignId)).toBe('cancelled');
    const campaign = await h.app.campaigns.require(h.campaignId);
    expect(campaign).toMatchObject({ state: 'cancelled', total: 0, endReason: expect.stringMatching(/list weekly has no members left/) });
    expect(await h.batches()).toEqual(IDLE);
  });

  it('moves, becomes a draft, starts on demand, and is refused all of that once started', async () => {
    const h = (harness = await startHarness());
    await h.addSubscribers(2);
    const deps = campaignDeps(h.app);
    const first = inAnHour();
    await scheduleIssue(deps, deliveryIssue, { list: 'weekly', at: first });
    const second = new Date(first.getTime() + HOUR);
    expect(await rescheduleCampaign(deps, h.campaignId, second)).toMatchObject({ state: 'scheduled', scheduledAt: second.toISOString() });
    // The old time passes: nothing starts.
    expect(await startDueCampaigns(clockAt(h, later(first)))).toBe(0);
    expect(await unscheduleCampaign(deps, h.campaignId)).toMatchObject({ state: 'draft', scheduledAt: undefined });
    expect(await startDueCampaigns(clockAt(h, later(second)))).toBe(0);
    expect(await unscheduleCampaign(deps, h.campaignId)).toMatchObject({ state: 'draft' });
    await refusedWith(rescheduleCampaign(deps, h.campaignId, new Date(Date.now() - 1000)), 'INPUT_INVALID');

    h.startWorker();
    expect((await startCampaign(deps, h.campaignId)).state).not.toBe('draft');
    await h.waitFor((c) => c.state === 'completed');
    expect(h.smtp.messages).toHaveLength(2);
    await refusedWith(rescheduleCampaign(deps, h.campaignId, inAnHour()), 'CAMPAIGN_STATE_INVALID');
    await refusedWith(unscheduleCampaign(deps, h.campaignId), 'CAMPAIGN_STATE_INVALID');
    await refusedWith(startCampaign(deps, h.campaignId), 'CAMPAIGN_STATE_INVALID');
    await refusedWith(scheduleIssue(deps, deliveryIssue, { list: 'weekly', at: inAnHour() }), 'CAMPAIGN_STATE_INVALID');
    await refusedWith(unscheduleCampaign(deps, 'nope--weekly'), 'CAMPAIGN_NOT_FOUND');
    expect(await h.app.campaigns.list()).toHaveLength(1);
  });

  it('send again before the start replaces the rendering: send --at moves it, send without a time starts it now', async () => {
    const h = (harness = await startHarness());
    await h.addSubscribers(2);
    const deps = campaignDeps(h.app);
    await scheduleIssue(deps, deliveryIssue, { list: 'weekly', at: inAnHour() });
    const fixed = { ...deliveryIssue, subject: 'SOFA Weekly, corrected' };
    const at = new Date(Date.now() + 2 * HOUR);
    expect(await scheduleIssue(deps, fixed, { list: 'weekly', at })).toMatchObject({
      state: 'scheduled',
      subject: fixed.subject,
      scheduledAt: at.toISOString(),
    });
    h.startWorker();
    const now = await sendIssue(deps, { ...fixed, subject: 'SOFA Weekly, final' }, { list: 'weekly' });
    expect(now.kind === 'campaign' && now.campaign.state).not.toBe('scheduled');
    await h.waitFor((c) => c.state === 'completed');
    expect(h.smtp.messages).toHaveLength(2);
    expect((await h.app.campaigns.getSnapshot(h.campaignId))!.subject).toBe('SOFA Weekly, final');
    expect(await h.app.campaigns.list()).toHaveLength(1);
  });
});

describe('admin API: scheduling', () => {
  it('schedules on create with scheduledAt, moves and unschedules; refuses bad bodies (nothing changed) and 409 once started', async () => {
    const a = (admin = await startAdminServer());
    await a.harness.addSubscribers(2);
    const id = a.harness.campaignId;
    const at = new Date(Date.now() + HOUR);
    const offset = '+08:00';
    const local = new Date(at.getTime() + 8 * HOUR).toISOString().slice(0, 19) + offset;

    const before = await a.snapshot();
    for (const [body, field] of [
      [{ post: SEED_POST, list: 'weekly', scheduledAt: local.slice(0, 19) }, 'scheduledAt'],
      [{ post: SEED_POST, list: 'weekly', scheduledAt: '2020-01-01T09:00:00Z' }, 'scheduledAt'],
      [{ post: SEED_POST, list: 'weekly', scheduledAt: 'next tuesday' }, 'scheduledAt'],
      [{ post: SEED_POST, list: 'weekly', scheduledAt: 1700000000 }, 'scheduledAt'],
      [{ post: SEED_POST, testTo: 'editor@example.org', scheduledAt: local }, 'scheduledAt'],
    ] as const) {
      const refused = await a.call('POST', '/api/campaigns', { json: body });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ ok: false, code: 'INPUT_INVALID', field });
    }
    expect(await a.snapshot()).toEqual(before);

    const created = await a.call('POST', '/api/campaigns', { json: { post: SEED_POST, list: 'weekly', scheduledAt: local } });
    expect(created.status).toBe(202);
    expect(await created.json()).toMatchObject({
      ok: true,
      kind: 'scheduled',
      campaign: { id, state: 'scheduled', scheduledAt: at.toISOString().replace(/\.\d+Z$/, '.000Z') },
    });
    const listed = await (await a.call('GET', '/api/campaigns')).json();
    expect(listed.campaigns).toEqual([expect.objectContaining({ id, state: 'scheduled', scheduledAt: expect.any(String) })]);

    const scheduled = await a.snapshot();
    for (const [path, body] of [
      [`/api/campaigns/${id}/schedule`, {}],
      [`/api/campaigns/${id}/schedule`, { scheduledAt: '2030-01-01 09:00' }],
      [`/api/campaigns/${id}/schedule`, { scheduledAt: '2030-01-01T09:00:00Z', extra: 1 }],
      [`/api/campaigns/${id}/unschedule`, { now: true }],
    ] as const) {
      expect((await a.call('POST', path, { json: body })).status).toBe(400);
    }
    expect((await a.call('POST', '/api/campaigns/nope--weekly/schedule', { json: { scheduledAt: '2030-01-01T09:00:00Z' } })).status).toBe(404);
    expect(await a.snapshot()).toEqual(scheduled);

    const moved = await a.call('POST', `/api/campaigns/${id}/schedule`, { json: { scheduledAt: '2030-01-01T09:00:00+01:00' } });
    expect(await moved.json()).toMatchObject({ ok: true, campaign: { state: 'scheduled', scheduledAt: '2030-01-01T08:00:00.000Z' } });
    const status = await (await a.call('GET', `/api/campaigns/${id}`)).json();
    expect(status.campaign).toMatchObject({ state: 'scheduled', scheduledAt: '2030-01-01T08:00:00.000Z' });
    expect(await (await a.call('POST', `/api/campaigns/${id}/unschedule`)).json()).toMatchObject({ ok: true, campaign: { state: 'draft' } });

    a.harness.startWorker();
    expect((await a.call('POST', `/api/campaigns/${id}/start`)).status).toBe(200);
    await a.harness.waitFor((c) => c.state === 'completed');
    for (const [path, body] of [
      [`/api/campaigns/${id}/schedule`, { scheduledAt: '2030-01-01T09:00:00Z' }],
      [`/api/campaigns/${id}/unschedule`, undefined],
      [`/api/campaigns/${id}/start`, undefined],
    ] as const) {
      const refused = await a.call('POST', path, body === undefined ? {} : { json: body });
      expect(refused.status).toBe(409);
      expect(await refused.json()).toMatchObject({ ok: false, code: 'CAMPAIGN_STATE_INVALID' });
    }
    expect(a.harness.smtp.messages).toHaveLength(2);
  });
});

describe('newsletter send --at', () => {
  const POST = 'emails/posts/sofa-weekly-2019-11-01.md';

  it('refuses, exit 1 and naming the flag, a time in the past, in a DST gap, an unknown or conflicting zone, --tz alone, or --at with --test-to: nothing created', async () => {
    const h = (harness = await startHarness());
    await h.addSubscribers(1);
    const send = (...args: string[]) => runCli(['send', POST, '--list', 'weekly', ...args], { env: h.env });
    for (const [args, pattern] of [
      [['--at', '2020-01-01 09:00', '--tz', 'UTC'], /--at: .*in the past.*\[INPUT_INVALID\]/],
      [
        ['--at', '2030-03-10 02:30', '--tz', 'America/New_York'],
        /--at: 2030-03-10 02:30 does not exist in America\/New_York: the clocks jump from 2030-03-10 02:00 to 2030-03-10 03:00/,
      ],
      [['--at', '2030-11-03 01:30', '--tz', 'America/New_York'], /--at: .*happens twice/],
      [['--at', '2030-12-07 09:00', '--tz', 'Mars/Olympus_Mons'], /--tz: unknown time zone/],
      [['--at', '2030-12-07T09:00:00+08:00', '--tz', 'Europe/London'], /--tz: .*has offset \+08:00 but Europe\/London is at \+00:00/],
      [['--tz', 'UTC'], /--tz: .*only says how to read --at/],
      [['--at', '2030-12-07 09:00', '--dry-run'], /--at: /],
    ] as const) {
      const refused = await send(...args);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.stderr).toMatch(pattern);
    }
    expect(await h.app.campaigns.list()).toEqual([]);
  });

  it('renders and checks the post now: a broken post fails at scheduling time and nothing is scheduled', async () => {
    const h = (harness = await startHarness());
    const dir = mkdtempSync(join(tmpdir(), 'nl-schedule-'));
    writeFileSync(join(dir, 'broken.md'), '---\nauthor: me\n---\nbody\n');
    const refused = await runCli(['send', join(dir, 'broken.md'), '--list', 'weekly', '--at', new Date(Date.now() + HOUR).toISOString()], { env: h.env });
    rmSync(dir, { recursive: true });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\[POST_TITLE_MISSING\]/);
    expect(await h.app.campaigns.list()).toEqual([]);
    expect(await new ScheduleStore({ redis: h.app.redis, prefix: h.prefix }).due(new Date(Date.now() + 2 * HOUR))).toEqual([]);
  });

  it("schedules in newsletter.yaml's timezone by default and shows the time in that zone and UTC", async () => {
    const h = (harness = await startHarness());
    await h.addSubscribers(1);
    const sent = await runCli(['send', POST, '--list', 'weekly', '--at', '2030-12-07 09:00'], { env: h.env });
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain('scheduled for 2030-12-07 09:00:00 Asia/Shanghai (+08:00) = 2030-12-07T01:00:00.000Z');
    const status = await runCli(['campaign', 'status', h.campaignId, '--tz', 'Europe/London'], { env: h.env });
    expect(status.stdout).toMatch(/scheduled\n.*\n.*\n\s+created .*, starts 2030-12-07 01:00:00 Europe\/London \(\+00:00\) = 2030-12-07T01:00:00\.000Z/);
    const moved = await runCli(['campaign', 'schedule', h.campaignId, '--at', '2030-12-08 10:15:30'], { env: h.env });
    expect(moved.code).toBe(0);
    expect(await h.app.campaigns.require(h.campaignId)).toMatchObject({ state: 'scheduled', scheduledAt: '2030-12-08T02:15:30.000Z' });
  });
});
