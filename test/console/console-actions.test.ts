/**
 * The console's actions over HTTP on the web server as `newsletter server` builds it, with an
 * in-process worker and SMTP server that rejects one address: a campaign's failures with the
 * address masked unless asked, its JSON counts, cancel refused once completed, resend to the
 * failed; a subscriber found, its status changed with a reason, the export as a download.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_POST, startAdminServer, TOKEN, type AdminServer } from '../helpers/admin-server.ts';

const CAMPAIGN = 'sofa-weekly-2019-11-01--weekly';
let admin: AdminServer;
let cookie: string;
let csrf: string;

beforeAll(async () => {
  admin = await startAdminServer({ onRcpt: (address) => (address === 'r1@example.org' ? { code: 550, message: '5.2.1 Mailbox disabled' } : undefined) });
  await admin.harness.addSubscribers(3);
  const login = await fetch(`${admin.base}/admin/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
  cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  csrf = /name="_csrf" value="([^"]+)"/.exec(await (await get('/admin/subscribers')).text())![1]!;
});
afterAll(async () => {
  await admin?.close();
});

function get(path: string): Promise<Response> {
  return fetch(`${admin.base}${path}`, { headers: { cookie }, redirect: 'manual' });
}

function post(path: string, fields: Record<string, string> = {}): Promise<Response> {
  return fetch(`${admin.base}${path}`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, ...fields }),
    redirect: 'manual',
  });
}

async function status(): Promise<Record<string, unknown>> {
  return ((await (await get(`/admin/campaigns/${CAMPAIGN}/status.json`)).json()) as { campaign: Record<string, unknown> }).campaign;
}

describe('campaign actions in the console', () => {
  it('sends, shows the failure masked until asked, refuses to cancel a completed campaign, and resends to the failed', async () => {
    admin.harness.startWorker();
    const sent = await post('/admin/send', { post: SEED_POST, list: 'weekly' });
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe(`/admin/campaigns/${CAMPAIGN}?notice=started`);
    await expect.poll(async () => (await status()).state, { timeout: 15_000 }).toBe('completed');
    expect(await status()).toMatchObject({ accepted: 2, failed: 1, settled: 3, percent: 100, active: false, eta: '–' });

    const masked = await (await get(`/admin/campaigns/${CAMPAIGN}`)).text();
    expect(masked).toContain('r•••@example.org');
    expect(masked).toContain('5.2.1 Mailbox disabled');
    // With the time the server refused it, as people read it.
    expect(masked).toMatch(/<td data-testid="failed-at">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<\/td>/);
    expect(masked).not.toContain('r1@example.org');
    expect(await (await get(`/admin/campaigns/${CAMPAIGN}?addresses=shown`)).text()).toContain('r1@example.org');

    const cancelled = await post(`/admin/campaigns/${CAMPAIGN}/cancel`);
    expect(cancelled.status).toBe(409);
    expect(await cancelled.text()).toContain('completed');
    expect((await admin.harness.app.campaigns.require(CAMPAIGN)).state).toBe('completed');

    const resent = await post(`/admin/campaigns/${CAMPAIGN}/resend`);
    expect(resent.headers.get('location')).toBe(`/admin/campaigns/${CAMPAIGN}?notice=resent`);
    expect((await admin.harness.app.campaigns.require(CAMPAIGN)).resendRounds).toBe(1);
    const list = (await (await get('/admin/campaigns.json')).json()) as { campaigns: { id: string }[] };
    expect(list.campaigns.map((c) => c.id)).toEqual([CAMPAIGN]);
  });
});

describe('subscribers in the console', () => {
  it('finds one by address, changes its status only with a reason, and exports the list as a download', async () => {
    const found = await (await get('/admin/subscribers?email=R0@example.org')).text();
    expect(found).toMatch(/data-testid="subscriber-status">active</);

    const noReason = await post('/admin/subscribers/status', { email: 'r0@example.org', status: 'unsubscribed', reason: ' ' });
    expect(noReason.status).toBe(400);
    expect((await admin.harness.app.subscribers.getByEmail('r0@example.org'))!.status).toBe('active');

    const changed = await post('/admin/subscribers/status', { email: 'r0@example.org', status: 'unsubscribed', reason: 'asked by phone' });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toContain('r0@example.org is now unsubscribed.');
    const subscriber = (await admin.harness.app.subscribers.getByEmail('r0@example.org'))!;
    expect(subscriber.history.at(-1)).toMatchObject({ status: 'unsubscribed', reason: 'asked by phone' });
    expect(await (await get('/admin/subscribers')).text()).toMatch(/data-testid="count-weekly-unsubscribed">1</);

    const missing = await (await get('/admin/subscribers?email=nobody@example.org')).text();
    expect(missing).toContain('nobody@example.org is not a subscriber');

    const csv = await get('/admin/subscribers/export.csv?list=weekly');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="subscribers-weekly.csv"');
    const rows = (await csv.text()).trim().split('\r\n');
    expect(rows[0]).toBe('email,name,status,lists,created_at,updated_at');
    expect(rows.slice(1).map((r) => r.split(',').slice(0, 3).join(','))).toEqual([
      'r0@example.org,,unsubscribed',
      'r1@example.org,,active',
      'r2@example.org,,active',
    ]);
  });

  it('tells the page how many rows an import in flight has read, then forgets it', async () => {
    const id = 'import-0123456789';
    const csv = ['email', ...Array.from({ length: 30_000 }, (_, i) => `bulk${i}@example.org`)].join('\n');
    const data = new FormData();
    data.append('_csrf', csrf);
    data.append('importId', id);
    data.append('list', 'bulk');
    data.append('file', new Blob([csv], { type: 'text/csv' }), 'bulk.csv');
    const importing = fetch(`${admin.base}/admin/subscribers/import`, { method: 'POST', headers: { cookie }, body: data });
    const seen: number[] = [];
    await expect
      .poll(
        async () => {
          const answer = await get(`/admin/subscribers/import-progress?id=${id}`);
          if (answer.status === 200) seen.push(((await answer.json()) as { rows: number }).rows);
          return seen.some((rows) => rows > 0);
        },
        { timeout: 30_000, interval: 5 },
      )
      .toBe(true);
    const report = await (await importing).text();
    expect(report).toContain('imported 30000, updated 0, unchanged 0, rejected 0');
    expect(Math.max(...seen)).toBeLessThanOrEqual(30_000);
    expect((await get(`/admin/subscribers/import-progress?id=${id}`)).status).toBe(404);
  });
});
