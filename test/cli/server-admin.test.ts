/** `newsletter server` with NEWSLETTER_ADMIN_TOKEN serves the admin API and the queue dashboard from the app's own stores and queue. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesPerTest } from '../helpers/processes.ts';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const processes = processesPerTest();
const TOKEN = 'server-admin-test-token-'.padEnd(48, 't');
let prefix: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  prefix = uniquePrefix('server-admin');
  ({ cleanup } = await connectTestRedis(prefix));
});
afterAll(async () => {
  await cleanup();
});

describe('newsletter server with an admin token', () => {
  it('answers the admin API and the queue dashboard with the token, 401 without, and stops cleanly', async () => {
    // No SMTP_URL: the subscribe form is off, the rest runs.
    const { spawned, url: base } = await processes.server({
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      NEWSLETTER_CONFIG: 'newsletter.yaml',
      NEWSLETTER_DEV_MODE: '1',
      NEWSLETTER_ADMIN_TOKEN: TOKEN,
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const auth = { authorization: `Bearer ${TOKEN}` };

    expect((await fetch(`${base}/api/campaigns`)).status).toBe(401);
    expect(await (await fetch(`${base}/api/campaigns`, { headers: auth })).json()).toEqual({ ok: true, campaigns: [] });
    const added = await fetch(`${base}/api/subscribers`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ann@example.org' }),
    });
    expect(added.status).toBe(201);
    expect((await fetch(`${base}/api/subscribers/ann@example.org`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${base}/api/subscribers/ann%40example.org`, { headers: auth })).status).toBe(200);
    const dry = await fetch(`${base}/api/campaigns`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ post: 'sofa-weekly-2019-11-01.md', list: 'default', dryRun: true }),
    });
    expect(await dry.json()).toMatchObject({ ok: true, kind: 'dry-run', recipients: 1 });

    expect((await fetch(`${base}/admin/queues/api/queues`)).status).toBe(401);
    const queues = await (await fetch(`${base}/admin/queues/api/queues`, { headers: auth })).json();
    expect(queues.queues.map((q: { name: string }) => q.name)).toEqual(['deliveries']);
    expect(await spawned.stop('SIGTERM'), spawned.output()).toEqual({ code: 0, signal: null });
    const logs = spawned.output();
    // Request lines are logged, without the address in the URL or the token.
    expect(logs).toContain('/api/subscribers/[redacted]');
    expect(logs).not.toMatch(/ann(@|%40)example\.org/);
    expect(logs).not.toContain(TOKEN);
  });
});
