/**
 * The queue dashboard (Bull Board at /admin/queues) over real HTTP: its page, assets and
 * API answer with the admin token (bearer header or the sign-in cookie) and 401 without;
 * it is read-only; its relaxed Content-Security-Policy stays on its own paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionValue, isSessionValue, SESSION_COOKIE, SESSION_SECONDS } from '../../src/http/admin-session.ts';
import { SEED_POST, startAdminServer, TOKEN, type AdminServer } from '../helpers/admin-server.ts';

let admin: AdminServer;
let scriptPath: string;
/** The server's clock: sessions expire only when a test moves it. */
let clock = new Date('2026-03-01T09:00:00.000Z');

beforeAll(async () => {
  admin = await startAdminServer({ now: () => clock });
  await admin.harness.addSubscribers(3);
  // No worker: the campaign's batch waits in the queue for the dashboard to show.
  await admin.call('POST', '/api/campaigns', { json: { post: SEED_POST, list: 'weekly' } });
  const page = await (await admin.call('GET', '/admin/queues/')).text();
  scriptPath = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page)![1]!;
});
afterAll(async () => {
  await admin.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${admin.base}${path}`, { headers, redirect: 'manual' });
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('the queue dashboard', () => {
  it('serves its page, assets and API with the bearer token, and 401 without or with a wrong one', async () => {
    const paths = ['/admin/queues', '/admin/queues/', `/admin/queues/${scriptPath}`, '/admin/queues/api/queues', '/admin/queues/queue/deliveries'];
    for (const path of paths) {
      expect((await get(path, bearer)).status, path).toBe(200);
      const wrong: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { cookie: `${SESSION_COOKIE}=1.${'A'.repeat(43)}` }];
      for (const headers of wrong) {
        const refused = await get(path, headers);
        expect(refused.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(await refused.json()).toMatchObject({ ok: false, code: 'ADMIN_TOKEN_INVALID' });
      }
    }
    const page = await get('/admin/queues/', bearer);
    expect(await page.text()).toContain('<title>Newsletter deliveries</title>');
  });

  it('shows the delivery queue and the waiting batch through its API', async () => {
    const body = await (await get('/admin/queues/api/queues?activeQueue=deliveries&status=waiting&page=1', bearer)).json();
    const queue = body.queues.find((q: { name: string }) => q.name === 'deliveries');
    expect(queue).toMatchObject({ readOnlyMode: true });
    expect(queue.counts.waiting).toBe(1);
    expect(queue.jobs[0].data).toEqual({ campaignId: 'sofa-weekly-2019-11-01--weekly', ids: expect.any(Array) });
  });

  it('is read-only: pausing the queue or cleaning jobs is refused and nothing changes', async () => {
    const before = await admin.snapshot();
    for (const [method, path] of [
      ['PUT', '/admin/queues/api/queues/deliveries/pause'],
      ['PUT', '/admin/queues/api/queues/deliveries/clean/waiting'],
      ['PUT', '/admin/queues/api/queues/deliveries/empty'],
    ]) {
      const response = await fetch(`${admin.base}${path}`, { method, headers: bearer });
      expect(response.status, path).toBe(405);
      expect(await response.json(), path).toEqual({ error: { key: 'ERRORS.QUEUE_READ_ONLY' } });
    }
    expect(await admin.harness.app.deliveryQueue().isPaused()).toBe(false);
    expect(await admin.snapshot()).toEqual(before);
  });

  it('answers a browser without a session with the sign-in form (401), and a wrong token with 401 and no cookie', async () => {
    const page = await get('/admin/queues/', { accept: 'text/html' });
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('action="/admin/login"');
    const wrong = await fetch(`${admin.base}/admin/login`, { method: 'POST', body: new URLSearchParams({ token: 'wrong' }), redirect: 'manual' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  it('signs a browser in with the token: an HttpOnly, SameSite=Strict cookie that opens the dashboard and nothing else', async () => {
    const login = await fetch(`${admin.base}/admin/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
    expect(login.status).toBe(303);
    // Without a `next` page, sign-in lands in the editor's console.
    expect(login.headers.get('location')).toBe('/admin/issues');
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^nl_admin=\d+\.[A-Za-z0-9_-]{43}; Path=\/admin; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;
    expect((await get('/admin/queues/api/queues', { cookie })).status).toBe(200);
    // The API and /metrics take the bearer header only: a cookie there could be sent cross-site.
    expect((await get('/api/campaigns', { cookie })).status).toBe(401);
    const logout = await fetch(`${admin.base}/admin/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    expect(logout.headers.get('set-cookie')).toMatch(/^nl_admin=; Path=\/admin; Max-Age=0;/);
  });

  it('lets a session cookie open the dashboard for 12 hours, not a second longer', async () => {
    const signedInAt = clock;
    const login = await fetch(`${admin.base}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN }).toString(),
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    try {
      clock = new Date(signedInAt.getTime() + (SESSION_SECONDS - 1) * 1000);
      expect((await get('/admin/queues/api/queues', { cookie })).status).toBe(200);
      clock = new Date(signedInAt.getTime() + SESSION_SECONDS * 1000);
      const expired = await get('/admin/queues/api/queues', { cookie });
      expect(expired.status).toBe(401);
      expect(await expired.json()).toMatchObject({ ok: false, code: 'ADMIN_TOKEN_INVALID' });
      // The bearer header does not expire.
      expect((await get('/admin/queues/api/queues', bearer)).status).toBe(200);
    } finally {
      clock = signedInAt;
    }
  });

  it('accepts a session cookie only while it is fresh and signed with the current token', () => {
    const now = new Date('2024-05-01T00:00:00Z');
    const value = createSessionValue(TOKEN, now);
    expect(isSessionValue(TOKEN, value, now)).toBe(true);
    expect(isSessionValue(TOKEN, value, new Date(now.getTime() + 13 * 3600_000))).toBe(false);
    expect(isSessionValue(`${TOKEN}-rotated`, value, now)).toBe(false);
    const [expires, mac] = value.split('.');
    expect(isSessionValue(TOKEN, `${Number(expires) + 3600}.${mac}`, now)).toBe(false);
    expect(isSessionValue(TOKEN, `${expires}.${mac!.slice(0, -1)}`, now)).toBe(false);
    expect(isSessionValue(TOKEN, undefined, now)).toBe(false);
  });

  it('relaxes the Content-Security-Policy for the dashboard only', async () => {
    const dashboard = (await get('/admin/queues/', bearer)).headers.get('content-security-policy')!;
    expect(dashboard).toContain("script-src 'self'");
    expect(dashboard).not.toContain('unsafe-eval');
    expect(dashboard).toContain("frame-ancestors 'none'");
    const elsewhere = (await get('/healthz')).headers.get('content-security-policy')!;
    expect(elsewhere).toMatch(/^default-src 'none'/);
    expect(elsewhere).not.toContain('script-src');
    expect((await get('/admin/login')).headers.get('content-security-policy')).toBe(elsewhere);
  });
});
