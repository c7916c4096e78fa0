/**
 * The admin API's campaign routes over real HTTP, against real Redis and a real SMTP
 * server with an in-process delivery worker.
 */
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Campaign } from '../../src/campaign/campaign.ts';
import { decodeHeaderWords } from '../../src/delivery/mime-encoding.ts';
import { parseMessage } from '../helpers/parse-mime.ts';
import { SEED_POST, startAdminServer, type AdminServer } from '../helpers/admin-server.ts';

const CAMPAIGN = 'sofa-weekly-2019-11-01--weekly';

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
  admin = undefined;
});

/** The campaign as the API reports it, once it is in `state`. */
function waitForState(server: AdminServer, id: string, state: Campaign['state']): Promise<Campaign> {
  return vi.waitFor(
    async () => {
      const { campaign } = await (await server.call('GET', `/api/campaigns/${id}`)).json();
      if (campaign.state !== state) throw new Error(`campaign ${id} is ${campaign.state}, not ${state}`);
      return campaign;
    },
    { timeout: 15_000, interval: 50 },
  );
}

describe('admin API: campaigns', () => {
  it('creates a campaign from a post under POSTS_DIR that the worker delivers, then reports it, its failures and a resend', async () => {
    admin = await startAdminServer();
    await admin.harness.addSubscribers(3);
    admin.harness.startWorker();

    const created = await admin.call('POST', '/api/campaigns', { json: { post: SEED_POST, list: 'weekly' } });
    expect(created.status).toBe(202);
    expect(created.headers.get('location')).toBe(`/api/campaigns/${CAMPAIGN}`);
    const body = await created.json();
    expect(body).toMatchObject({ ok: true, kind: 'campaign', campaign: { id: CAMPAIGN, list: 'weekly', total: 3 } });
    expect(Array.isArray(body.warnings)).toBe(true);

    const done = await waitForState(admin, CAMPAIGN, 'completed');
    expect(done).toMatchObject({ total: 3, accepted: 3, failed: 0, skipped: 0 });
    expect(admin.harness.smtp.messages.map((m) => m.to[0]).sort()).toEqual(['r0@example.org', 'r1@example.org', 'r2@example.org']);
    const parsed = parseMessage(admin.harness.smtp.messages[0]!.raw);
    expect(decodeHeaderWords(parsed.headers.get('subject')!)).toContain('SOFA Weekly');

    const list = await (await admin.call('GET', '/api/campaigns')).json();
    expect(list).toEqual({ ok: true, campaigns: [expect.objectContaining({ id: CAMPAIGN, state: 'completed' })] });
    expect(await (await admin.call('GET', `/api/campaigns/${CAMPAIGN}/failures`)).json()).toEqual({ ok: true, failures: [], total: 0 });

    const resend = await admin.call('POST', `/api/campaigns/${CAMPAIGN}/resend`, { json: { failed: true } });
    expect(await resend.json()).toEqual({ ok: true, round: 0, recipients: 0, unknownLeftOut: 0 });
    const again = await admin.call('POST', '/api/campaigns', { json: { post: SEED_POST, list: 'weekly' } });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ ok: false, code: 'CAMPAIGN_STATE_INVALID' });
    expect(admin.harness.smtp.messages).toHaveLength(3);
  });

  it('lists failed deliveries with the address and reply, and resends only to them', async () => {
    let reject = true;
    admin = await startAdminServer({
      onRcpt: (address) => (reject && address === 'r1@example.org' ? { code: 550, message: '5.2.1 Mailbox disabled' } : undefined),
    });
    await admin.harness.addSubscribers(3);
    admin.harness.startWorker();
    const sentAt = Date.now();
    await admin.call('POST', '/api/campaigns', { json: { post: SEED_POST, list: 'weekly' } });
    expect(await waitForState(admin, CAMPAIGN, 'completed')).toMatchObject({ accepted: 2, failed: 1 });
    const failures = await (await admin.call('GET', `/api/campaigns/${CAMPAIGN}/failures`)).json();
    expect(failures).toEqual({
      ok: true,
      total: 1,
      failures: [{ subscriberId: expect.any(String), email: 'r1@example.org', reply: expect.stringMatching(/^550 5\.2\.1/), at: expect.any(String) }],
    });
    // When the server refused it: after the send began, not after now.
    const failedAt = Date.parse(failures.failures[0].at);
    expect(failedAt).toBeGreaterThanOrEqual(sentAt - 1000);
    expect(failedAt).toBeLessThanOrEqual(Date.now());

    reject = false;
    const resend = await admin.call('POST', `/api/campaigns/${CAMPAIGN}/resend`, { json: { failed: true } });
    expect(await resend.json()).toEqual({ ok: true, round: 1, recipients: 1, unknownLeftOut: 0 });
    expect(await waitForState(admin, CAMPAIGN, 'completed')).toMatchObject({ total: 3, accepted: 3, failed: 0 });
    expect(admin.harness.smtp.messages.map((m) => m.to[0]).sort()).toEqual(['r0@example.org', 'r1@example.org', 'r2@example.org']);
  });

  it('renders Markdown sent in the body: a dry run counts active recipients, returns the warnings and writes nothing', async () => {
    admin = await startAdminServer();
    const [first] = await admin.harness.addSubscribers(3);
    await admin.harness.app.subscribers.unsubscribe(first!.id, 'test');
    const before = await admin.snapshot();
    const markdown = '---\ntitle: Hello from the API\ndate: 2024-05-01\n---\n\nRead [this](http://insecure.example.org/page).\n';
    const response = await admin.call('POST', '/api/campaigns', { json: { markdown, slug: 'hello-api', list: 'weekly', dryRun: true } });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ ok: true, kind: 'dry-run', slug: 'hello-api', subject: 'Hello from the API', list: 'weekly', recipients: 2 });
    expect(body.warnings).toEqual([expect.objectContaining({ code: 'LINK_INSECURE', line: 6 })]);
    expect(await admin.snapshot()).toEqual(before);
  });

  it('renders a post as `newsletter render` does (HTML, text, warnings) and stores nothing; a bad source is a 400 naming the field', async () => {
    admin = await startAdminServer();
    const before = await admin.snapshot();
    const fromFolder = await admin.call('POST', '/api/render', { json: { post: SEED_POST } });
    expect(fromFolder.status).toBe(200);
    const issue = await fromFolder.json();
    expect(issue).toMatchObject({ ok: true, slug: 'sofa-weekly-2019-11-01', subject: expect.stringContaining('SOFA Weekly'), warnings: [] });
    expect(issue.html).toContain('<!doctype html>');
    expect(issue.text).toContain('SOFA');

    const markdown = '---\ntitle: Rendered by the API\ndate: 2024-05-01\n---\n\nSee [the site](http://insecure.example.org/).\n';
    const fromBody = await (await admin.call('POST', '/api/render', { json: { markdown, slug: 'api-render' } })).json();
    expect(fromBody).toMatchObject({
      ok: true,
      slug: 'api-render',
      subject: 'Rendered by the API',
      warnings: [expect.objectContaining({ code: 'LINK_INSECURE', line: 6 })],
    });
    expect(fromBody.html).toContain('Rendered by the API');

    for (const json of [{}, { post: SEED_POST, markdown }, { markdown }, { post: '../newsletter.yaml' }, { post: SEED_POST, list: 'weekly' }]) {
      const refused = await admin.call('POST', '/api/render', { json });
      expect(refused.status, JSON.stringify(json)).toBe(400);
      expect(await refused.json()).toMatchObject({ ok: false, code: 'INPUT_INVALID' });
    }
    expect(await admin.snapshot()).toEqual(before);
  });

  it('sends one test message to testTo, outside any campaign', async () => {
    admin = await startAdminServer();
    const response = await admin.call('POST', '/api/campaigns', {
      json: { post: 'qa-weekly/index.md', testTo: 'Editor@Example.org', baseUrl: 'https://demo.example.org' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, kind: 'test', to: 'Editor@example.org', reply: expect.stringMatching(/^250/) });
    expect(admin.harness.smtp.messages.map((m) => m.to)).toEqual([['Editor@example.org']]);
    const parsed = parseMessage(admin.harness.smtp.messages[0]!.raw);
    expect(decodeHeaderWords(parsed.headers.get('subject')!)).toMatch(/^\[TEST\] Demo Weekly/);
    expect(await (await admin.call('GET', '/api/campaigns')).json()).toEqual({ ok: true, campaigns: [] });
  });

  it("answers 502 TEST_SEND_FAILED with the server's reply when the SMTP server refuses the test address", async () => {
    admin = await startAdminServer({ onRcpt: (address) => (address === 'blocked@example.org' ? { code: 550, message: '5.7.1 Relaying denied' } : undefined) });
    const response = await admin.call('POST', '/api/campaigns', { json: { post: SEED_POST, testTo: 'blocked@example.org' } });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({
      ok: false,
      code: 'TEST_SEND_FAILED',
      field: 'testTo',
      message: expect.stringMatching(/550 5\.7\.1 Relaying denied/),
    });
  });

  it('pauses, resumes and cancels a campaign, and refuses a control its state does not allow', async () => {
    admin = await startAdminServer();
    await admin.harness.addSubscribers(2);
    const created = await (await admin.call('POST', '/api/campaigns', { json: { post: SEED_POST, list: 'weekly' } })).json();
    // No worker is running: the campaign waits in the queue, and the answer says so.
    expect(created).toMatchObject({ kind: 'campaign', workers: 0, campaign: { state: 'running' } });
    const control = async (action: string) => admin!.call('POST', `/api/campaigns/${CAMPAIGN}/${action}`);
    expect(await (await control('pause')).json()).toMatchObject({ ok: true, campaign: { state: 'paused' } });
    const twice = await control('pause');
    expect(twice.status).toBe(409);
    expect(await twice.json()).toMatchObject({ ok: false, code: 'CAMPAIGN_STATE_INVALID', field: 'campaign' });
    expect(await (await control('resume')).json()).toMatchObject({ campaign: { state: 'running' } });
    expect(await (await control('cancel')).json()).toMatchObject({ campaign: { state: 'cancelled' } });
    const resend = await admin.call('POST', `/api/campaigns/${CAMPAIGN}/resend`, { json: { failed: true } });
    expect(resend.status).toBe(409);
    const unknown = await admin.call('POST', '/api/campaigns/nope--weekly/pause');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ ok: false, code: 'CAMPAIGN_NOT_FOUND' });
  });
});

describe('admin API: bad campaign requests', () => {
  it('answer 4xx with the code and the field, and change nothing in Redis', async () => {
    admin = await startAdminServer();
    await admin.harness.addSubscribers(2);
    await writeFile(join(admin.postsDir, '..', 'outside-posts.md'), '---\ntitle: Outside\n---\nno\n');
    await symlink(join(admin.postsDir, '..', 'outside-posts.md'), join(admin.postsDir, 'escape.md'));
    const post = (json: unknown) => ({ json });
    const cases: [string, string, Parameters<AdminServer['call']>[2], number, string, string?][] = [
      ['malformed JSON', '/api/campaigns', { body: '{"post": ', type: 'application/json' }, 400, 'INPUT_INVALID', 'body'],
      [
        'wrong content type',
        '/api/campaigns',
        { body: `post=${SEED_POST}&list=weekly`, type: 'application/x-www-form-urlencoded' },
        415,
        'CONTENT_TYPE_UNSUPPORTED',
        'body',
      ],
      ['text instead of JSON', '/api/campaigns', { body: 'hello', type: 'text/plain' }, 415, 'CONTENT_TYPE_UNSUPPORTED', 'body'],
      ['an unknown field', '/api/campaigns', post({ post: SEED_POST, list: 'weekly', lsit: 'x' }), 400, 'INPUT_INVALID', 'lsit'],
      ['no post and no markdown', '/api/campaigns', post({ list: 'weekly' }), 400, 'INPUT_INVALID', 'post'],
      ['both post and markdown', '/api/campaigns', post({ post: SEED_POST, markdown: '# x', slug: 'x', list: 'weekly' }), 400, 'INPUT_INVALID', 'post'],
      ['markdown without a slug', '/api/campaigns', post({ markdown: '---\ntitle: T\n---\nx', list: 'weekly' }), 400, 'INPUT_INVALID', 'slug'],
      ['a slug that is not a name', '/api/campaigns', post({ markdown: '---\ntitle: T\n---\nx', slug: '../x', list: 'weekly' }), 400, 'INPUT_INVALID', 'slug'],
      ['a .. escape', '/api/campaigns', post({ post: '../outside-posts.md', list: 'weekly' }), 400, 'INPUT_INVALID', 'post'],
      ['a nested .. escape', '/api/campaigns', post({ post: 'qa-weekly/../../outside-posts.md', list: 'weekly' }), 400, 'INPUT_INVALID', 'post'],
      ['an absolute path', '/api/campaigns', post({ post: '/etc/passwd.md', list: 'weekly' }), 400, 'INPUT_INVALID', 'post'],
      ['a symlink out of the folder', '/api/campaigns', post({ post: 'escape.md', list: 'weekly' }), 400, 'INPUT_INVALID', 'post'],
      ['a file that is not a post', '/api/campaigns', post({ post: 'notes.txt', list: 'weekly' }), 400, 'INPUT_INVALID', 'post'],
      ['a post that does not exist', '/api/campaigns', post({ post: 'nope.md', list: 'weekly' }), 400, 'POST_UNREADABLE', 'post'],
      ['a post without a title', '/api/campaigns', post({ markdown: 'just text', slug: 'untitled', list: 'weekly' }), 400, 'POST_TITLE_MISSING', 'title'],
      ['no list and no testTo', '/api/campaigns', post({ post: SEED_POST }), 400, 'INPUT_INVALID', 'list'],
      ['a list name with a space', '/api/campaigns', post({ post: SEED_POST, list: 'two words' }), 400, 'INPUT_INVALID', 'list'],
      ['an invalid testTo', '/api/campaigns', post({ post: SEED_POST, testTo: 'not-an-address' }), 400, 'SUBSCRIBER_EMAIL_INVALID', 'testTo'],
      ['dryRun that is not a boolean', '/api/campaigns', post({ post: SEED_POST, list: 'weekly', dryRun: 'yes' }), 400, 'INPUT_INVALID', 'dryRun'],
      [
        'a baseUrl that is not http(s)',
        '/api/campaigns',
        post({ post: SEED_POST, list: 'weekly', baseUrl: 'javascript:alert(1)' }),
        400,
        'INPUT_INVALID',
        'baseUrl',
      ],
      [
        'Markdown over 5 MB',
        '/api/campaigns',
        post({ markdown: `---\ntitle: Big\n---\n${'x'.repeat(7 * 1024 * 1024)}`, slug: 'big', list: 'weekly' }),
        413,
        'REQUEST_TOO_LARGE',
        'body',
      ],
      ['resend without failed: true', `/api/campaigns/${CAMPAIGN}/resend`, post({}), 400, 'INPUT_INVALID', 'failed'],
      ['a body on pause', `/api/campaigns/${CAMPAIGN}/pause`, post({ now: true }), 400, 'INPUT_INVALID', 'now'],
      ['an unknown query parameter', '/api/campaigns?limti=3', {}, 400, 'INPUT_INVALID', 'limti'],
    ];
    const before = await admin.snapshot();
    for (const [what, path, options, status, code, field] of cases) {
      const method = path.includes('?') ? 'GET' : 'POST';
      const response = await admin.call(method, path, options);
      expect(response.status, what).toBe(status);
      expect(response.headers.get('content-type'), what).toMatch(/^application\/json/);
      const body = await response.json();
      expect(body, what).toMatchObject({ ok: false, code });
      expect(typeof body.message, what).toBe('string');
      if (field) expect(body.field, what).toBe(field);
    }
    expect(await admin.snapshot()).toEqual(before);
    expect(admin.harness.smtp.messages).toHaveLength(0);
  });
});
