/**
 * The console's guard, over real HTTP against the web server as `newsletter server` builds it:
 * every state-changing route is refused without the sign-in cookie, without the CSRF token,
 * with a wrong one, and with only the bearer header, and Redis is exactly unchanged after all
 * of them; with both, the same request does change something (so the check can fail).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebServer } from '../../src/processes/web-server.ts';
import { SEED_POST, startAdminServer, TOKEN, type AdminServer } from '../helpers/admin-server.ts';

let admin: AdminServer;
let cookie: string;
let csrf: string;
const CAMPAIGN = 'sofa-weekly-2019-11-01--weekly';

async function signIn(base: string): Promise<string> {
  const response = await fetch(`${base}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: TOKEN }),
    redirect: 'manual',
  });
  expect(response.status).toBe(303);
  expect(response.headers.get('location')).toBe('/admin/issues');
  const set = response.headers.get('set-cookie')!;
  expect(set).toMatch(/HttpOnly; SameSite=Strict/);
  return set.split(';')[0]!;
}

beforeAll(async () => {
  admin = await startAdminServer();
  await admin.harness.addSubscribers(3);
  // A campaign to pause, resume, cancel and resend (no worker runs: it stays as it is).
  expect((await admin.call('POST', '/api/campaigns', { json: { post: SEED_POST, list: 'weekly' } })).status).toBe(202);
  cookie = await signIn(admin.base);
  const page = await (await fetch(`${admin.base}/admin/subscribers`, { headers: { cookie } })).text();
  csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
});
afterAll(async () => {
  await admin?.close();
});

function form(fields: Record<string, string>): { body: URLSearchParams; type: string } {
  return { body: new URLSearchParams(fields), type: 'application/x-www-form-urlencoded' };
}

function upload(fields: Record<string, string>): { body: FormData; type: undefined } {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  data.append('file', new Blob(['email,name\nnew@example.org,New\n'], { type: 'text/csv' }), 'people.csv');
  return { body: data, type: undefined };
}

/** Each state-changing route with a body that would change something, given the token fields. */
const ROUTES: [string, (extra: Record<string, string>) => { body: BodyInit; type: string | undefined }][] = [
  ['/admin/send', (x) => form({ post: SEED_POST, list: 'other', ...x })],
  ['/admin/send-test', (x) => form({ post: SEED_POST, to: 'someone@example.org', ...x })],
  ['/admin/schedule', (x) => form({ post: SEED_POST, list: 'other', at: '2030-01-01T09:00', tz: 'UTC', ...x })],
  [`/admin/campaigns/${CAMPAIGN}/pause`, (x) => form(x)],
  [`/admin/campaigns/${CAMPAIGN}/resume`, (x) => form(x)],
  [`/admin/campaigns/${CAMPAIGN}/cancel`, (x) => form(x)],
  [`/admin/campaigns/${CAMPAIGN}/resend`, (x) => form(x)],
  ['/admin/subscribers/add', (x) => form({ email: 'added@example.org', list: 'weekly', ...x })],
  ['/admin/subscribers/status', (x) => form({ email: 'r0@example.org', status: 'unsubscribed', reason: 'asked', ...x })],
  ['/admin/subscribers/import', (x) => upload(x)],
  [`/admin/campaigns/${CAMPAIGN}/start`, (x) => form(x)],
  [`/admin/campaigns/${CAMPAIGN}/unschedule`, (x) => form(x)],
];

async function post(path: string, make: (typeof ROUTES)[number][1], headers: Record<string, string>, extra: Record<string, string>) {
  const { body, type } = make(extra);
  return fetch(`${admin.base}${path}`, { method: 'POST', body, headers: { ...headers, ...(type ? { 'content-type': type } : {}) }, redirect: 'manual' });
}

describe('the console refuses every change without both the sign-in cookie and its CSRF token', () => {
  it('answers 401 or 403 to each route without them, and Redis is exactly unchanged', async () => {
    const before = await admin.snapshot();
    const cases: [string, Record<string, string>, Record<string, string>][] = [
      ['no cookie, right token', {}, { _csrf: csrf }],
      ['cookie, no token', { cookie }, {}],
      ['cookie, wrong token', { cookie }, { _csrf: `${csrf.slice(0, -2)}AA` }],
      ['cookie, token of another sign-in', { cookie }, { _csrf: 'x'.repeat(43) }],
      ['bearer header only', { authorization: `Bearer ${TOKEN}` }, {}],
      ['cookie, wrong token in the header', { cookie, 'x-csrf-token': 'nope' }, {}],
    ];
    const statuses: string[] = [];
    for (const [label, headers, extra] of cases) {
      for (const [path, make] of ROUTES) {
        const response = await post(path, make, headers, extra);
        statuses.push(`${label} ${path} ${response.status}`);
        expect([401, 403], `${label} ${path}`).toContain(response.status);
        expect(await response.text()).not.toContain(TOKEN);
      }
    }
    expect(statuses).toHaveLength(cases.length * ROUTES.length);
    expect(await admin.snapshot()).toEqual(before);
  });

  it('does the same request with the cookie and the token (the check is what refused)', async () => {
    const before = await admin.snapshot();
    const response = await post('/admin/subscribers/add', ROUTES[7]![1], { cookie }, { _csrf: csrf });
    expect(response.status).toBe(201);
    expect(await response.text()).toContain('Added added@example.org');
    expect(await admin.snapshot()).not.toEqual(before);
    // The token also works as a header (the script's uploads could send it that way).
    const paused = await post(`/admin/campaigns/${CAMPAIGN}/pause`, ROUTES[3]![1], { cookie, 'x-csrf-token': csrf }, {});
    expect(paused.status).toBe(303);
    expect((await admin.harness.app.campaigns.require(CAMPAIGN)).state).toBe('paused');
  });

  it('creates one campaign when editors on two servers send the same issue to the same list at once, and tells the others', async () => {
    await admin.harness.addSubscribers(2, 'other');
    // A second web server on the same Redis, as a second `newsletter server` behind a balancer: its own in-process guard.
    const other = await buildWebServer(admin.harness.app, { overrides: { mailer: undefined } });
    const otherBase = await other.listen({ port: 0, host: '127.0.0.1' });
    const send = (base: string) =>
      fetch(`${base}/admin/send`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ post: SEED_POST, list: 'other', _csrf: csrf }),
        redirect: 'manual',
      });
    const answers = await Promise.all([send(admin.base), send(otherBase), send(admin.base), send(otherBase)]);
    await other.close();
    expect(answers.map((a) => a.status)).toEqual([303, 303, 303, 303]);
    const notices = answers.map((a) => new URL(a.headers.get('location')!, admin.base).searchParams.get('notice')).sort();
    expect(notices).toEqual(['exists', 'exists', 'exists', 'started']);
    const ids = (await admin.harness.app.campaigns.list(100)).map((c) => c.id).sort();
    expect(ids).toEqual(['sofa-weekly-2019-11-01--other', CAMPAIGN]);
    // Enqueued once: two recipients, one batch.
    expect(await admin.harness.app.campaigns.require('sofa-weekly-2019-11-01--other')).toMatchObject({ total: 2, batches: 1 });
    // A reload of the confirm page offers no second send.
    const confirm = await fetch(`${admin.base}/admin/confirm?post=${SEED_POST}&list=other&when=now`, { headers: { cookie } });
    expect(await confirm.text()).toContain('already been sent to other');
  });

  it('schedules once: a wall time in its zone becomes one scheduled campaign, again finds it, a time the clocks skip changes nothing', async () => {
    const schedule = (fields: Record<string, string>) =>
      post('/admin/schedule', (x) => form({ post: SEED_POST, list: 'later', ...fields, ...x }), { cookie }, { _csrf: csrf });
    const id = 'sofa-weekly-2019-11-01--later';
    const before = await admin.snapshot();
    // 02:30 on 14 March 2027 does not exist in New York: the clocks jump from 02:00 to 03:00.
    const gap = await schedule({ at: '2027-03-14T02:30', tz: 'America/New_York' });
    expect(gap.status).toBe(400);
    expect(await gap.text()).toContain('does not exist in America/New_York');
    expect(await admin.snapshot()).toEqual(before);

    const first = await schedule({ at: '2030-01-01T09:00', tz: 'Asia/Shanghai' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(`/admin/campaigns/${id}?notice=scheduled`);
    expect(await admin.harness.app.campaigns.require(id)).toMatchObject({ state: 'scheduled', scheduledAt: '2030-01-01T01:00:00.000Z' });
    const again = await schedule({ at: '2030-01-02T09:00', tz: 'UTC' });
    expect(again.headers.get('location')).toBe(`/admin/campaigns/${id}?notice=exists`);
    expect(await admin.harness.app.campaigns.require(id)).toMatchObject({ state: 'scheduled', scheduledAt: '2030-01-01T01:00:00.000Z' });
    const page = await (await fetch(`${admin.base}/admin/campaigns/${id}`, { headers: { cookie } })).text();
    expect(page).toContain('2030-01-01 01:00:00 UTC');

    // Unschedule makes it a draft; Start now plans it at once, with the rendering it has.
    const action = (name: string) => post(`/admin/campaigns/${id}/${name}`, (x) => form(x), { cookie }, { _csrf: csrf });
    expect((await action('unschedule')).headers.get('location')).toBe(`/admin/campaigns/${id}?notice=unscheduled`);
    expect(await admin.harness.app.campaigns.require(id)).toMatchObject({ state: 'draft' });
    await admin.harness.addSubscribers(2, 'later', (i) => `later${i}@example.org`);
    expect((await action('start')).headers.get('location')).toBe(`/admin/campaigns/${id}?notice=started`);
    expect(await admin.harness.app.campaigns.require(id)).toMatchObject({ state: 'running', total: 2 });
    // Started: neither can be undone from the console.
    const refused = await action('unschedule');
    expect(refused.status).toBe(409);
    expect(await admin.harness.app.campaigns.require(id)).toMatchObject({ state: 'running' });
  });

  it('shows pages only after sign-in, never with the admin token in them, under a CSP without inline script', async () => {
    const anonymous = await fetch(`${admin.base}/admin/issues`, { headers: { accept: 'text/html' } });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toContain('name="next" value="/admin/issues"');
    for (const path of [
      '/admin/issues',
      `/admin/issues/${SEED_POST}`,
      `/admin/send/${SEED_POST}`,
      '/admin/campaigns',
      `/admin/campaigns/${CAMPAIGN}`,
      '/admin/subscribers',
    ]) {
      const response = await fetch(`${admin.base}${path}`, { headers: { cookie } });
      expect(response.status, path).toBe(200);
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      const text = await response.text();
      expect(text).not.toContain(TOKEN);
      expect(text).not.toMatch(/<script>|<style>| on[a-z]+="/);
    }
  });

  it('sends a logged-in editor to the page they asked for, and nowhere off the server', async () => {
    const login = (next: string) =>
      fetch(`${admin.base}/admin/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: TOKEN, next }),
        redirect: 'manual',
      });
    expect((await login('/admin/campaigns')).headers.get('location')).toBe('/admin/campaigns');
    expect((await login('//evil.example/admin')).headers.get('location')).toBe('/admin/issues');
    expect((await login('https://evil.example/admin')).headers.get('location')).toBe('/admin/issues');
  });
});
