/** Every admin API route answers 401 without the right bearer token, before doing anything. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/http/server.ts';
import { buildWebServer } from '../../src/processes/web-server.ts';
import { SEED_POST, startAdminServer, TOKEN, type AdminServer } from '../helpers/admin-server.ts';

const CAMPAIGN = 'sofa-weekly-2019-11-01--weekly';

/** One request per route: [method, path, body]. */
const ROUTES: [string, string, { json?: unknown; body?: string; type?: string }][] = [
  ['POST', '/api/campaigns', { json: { post: SEED_POST, list: 'weekly' } }],
  ['GET', '/api/campaigns', {}],
  ['POST', '/api/render', { json: { post: SEED_POST } }],
  ['GET', `/api/campaigns/${CAMPAIGN}`, {}],
  ['GET', `/api/campaigns/${CAMPAIGN}/failures`, {}],
  ['POST', `/api/campaigns/${CAMPAIGN}/pause`, {}],
  ['POST', `/api/campaigns/${CAMPAIGN}/resume`, {}],
  ['POST', `/api/campaigns/${CAMPAIGN}/cancel`, {}],
  ['POST', `/api/campaigns/${CAMPAIGN}/resend`, { json: { failed: true } }],
  ['POST', '/api/subscribers', { json: { email: 'new@example.org' } }],
  ['GET', '/api/subscribers', {}],
  ['GET', '/api/subscribers/count', {}],
  ['GET', '/api/subscribers/export', {}],
  ['POST', '/api/subscribers/import', { body: 'email\nimported@example.org\n', type: 'text/csv' }],
  ['GET', '/api/subscribers/r0@example.org', {}],
  ['PATCH', '/api/subscribers/r0@example.org', { json: { status: 'unsubscribed' } }],
  ['DELETE', '/api/subscribers/r1@example.org', {}],
  ['GET', '/api/no-such-route', {}],
];

let admin: AdminServer;
beforeAll(async () => {
  admin = await startAdminServer();
  await admin.harness.addSubscribers(2);
});
afterAll(async () => {
  await admin.close();
});

describe('admin API authentication', () => {
  it('refuses every route without a token or with a wrong one (401, ADMIN_TOKEN_INVALID) and changes nothing', async () => {
    const before = await admin.snapshot();
    for (const token of [null, 'wrong-token', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      for (const [method, path, options] of ROUTES) {
        const response = await admin.call(method, path, { ...options, token });
        const what = `${method} ${path} with ${token === null ? 'no token' : 'a wrong token'}`;
        expect(response.status, what).toBe(401);
        expect(response.headers.get('www-authenticate'), what).toMatch(/^Bearer /);
        expect(await response.json(), what).toMatchObject({ ok: false, code: 'ADMIN_TOKEN_INVALID' });
      }
    }
    // A token in the query string or as Basic auth is not a bearer token.
    expect((await fetch(`${admin.base}/api/campaigns?token=${TOKEN}`)).status).toBe(401);
    const basic = await fetch(`${admin.base}/api/campaigns`, { headers: { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` } });
    expect(basic.status).toBe(401);
    expect(await admin.snapshot()).toEqual(before);
    expect(admin.harness.smtp.messages).toHaveLength(0);
  });

  it('lets every route through with the right token', async () => {
    const before = await admin.snapshot();
    for (const [method, path, options] of ROUTES) {
      const response = await admin.call(method, path, options);
      // Some answers are refusals of the action (resend of a cancelled campaign: 409), never of the caller.
      expect(response.status, `${method} ${path}`).not.toBe(401);
      expect(response.status, `${method} ${path}`).toBeLessThan(500);
    }
    expect(await admin.snapshot()).not.toEqual(before);
  });

  it('is not mounted at all without NEWSLETTER_ADMIN_TOKEN', async () => {
    const app = await admin.harness.newApp({ NEWSLETTER_ADMIN_TOKEN: '' });
    const server = await buildWebServer(app);
    try {
      const base = await server.listen({ port: 0, host: '127.0.0.1' });
      const response = await fetch(`${base}/api/campaigns`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('keeps addresses in admin URLs out of request logs', () => {
    expect(redactUrl('/api/subscribers/ann@example.org')).toBe('/api/subscribers/[redacted]');
    expect(redactUrl('/api/subscribers/Ann%40Example.org?x=1')).toBe('/api/subscribers/[redacted]?x=1');
    expect(redactUrl('/api/subscribers/AbC123_-')).toBe('/api/subscribers/AbC123_-');
    expect(redactUrl('/api/subscribers/export?list=weekly')).toBe('/api/subscribers/export?list=weekly');
  });
});
