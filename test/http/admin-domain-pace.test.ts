/** The receiving groups being paced, as the admin API's campaign status and /metrics show them, over real HTTP. */
import { afterEach, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../helpers/admin-server.ts';
import { parsePrometheus } from '../metrics/parse-prometheus.ts';

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
  admin = undefined;
});

describe('admin API and /metrics: receiving domains paused', () => {
  it('name the paused group, until when, why, and how many of a running campaign’s recipients wait on it', async () => {
    admin = await startAdminServer({ env: { DOMAIN_PAUSE_MS: '600000' } });
    const { app } = admin.harness;
    await admin.harness.addSubscribers(3);
    const { id } = await admin.harness.send();
    // No worker runs: what a worker does when gmail throttles and a batch hands 42 recipients back.
    const reply = '421 4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail';
    await app.pace.throttled('google', reply, undefined);
    await app.campaigns.setGroupWaits(id, '1', new Map([['google', 40]]));
    await app.campaigns.setGroupWaits(id, '2', new Map([['google', 2]]));

    const { campaign } = await (await admin.call('GET', `/api/campaigns/${encodeURIComponent(id)}`)).json();
    expect(campaign.state).toBe('running');
    expect(campaign.domains).toEqual([
      { group: 'google', state: 'paused', until: expect.any(String), pausedForMs: expect.any(Number), share: 0, reason: reply, pauses: 1, waiting: 42 },
    ]);
    const until = Date.parse(campaign.domains[0].until);
    expect(until - Date.now()).toBeGreaterThan(590_000);
    expect(until - Date.now()).toBeLessThan(601_000);

    const metrics = parsePrometheus(await (await admin.call('GET', '/metrics')).text());
    expect(metrics.get('newsletter_domain_paused{group="google"}')).toBe(1);
    expect(metrics.get('newsletter_domain_waiting_recipients{group="google"}')).toBe(42);
    expect(metrics.get('newsletter_domain_paused_until_seconds{group="google"}')).toBeCloseTo(until / 1000, 0);
    expect(metrics.get(`newsletter_domain_pause_info{group="google",reason="${reply}"}`)).toBe(1);

    // A batch that runs again and waits for nothing clears its count.
    await app.campaigns.setGroupWaits(id, '1', new Map());
    const after = await (await admin.call('GET', `/api/campaigns/${encodeURIComponent(id)}`)).json();
    expect(after.campaign.domains[0].waiting).toBe(2);
  });
});
