/**
 * Bad input through the admin API (/api, bearer token), for what test/http/admin-*.test.ts
 * does not already cover: posts sent as Markdown that cannot become an email, header
 * values with line breaks, a CSV in the wrong encoding, and tokens meant for something
 * else used as the bearer token. Each answers its 4xx with code and location, and Redis
 * holds exactly what it held before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/subscribers/tokens.ts';
import { DEV_SECRET } from '../../src/subscribers/signing-secrets.ts';
import { startAdminServer, TOKEN, type AdminServer } from '../helpers/admin-server.ts';

let admin: AdminServer;

beforeAll(async () => {
  admin = await startAdminServer();
  await admin.harness.addSubscribers(2);
});
afterAll(async () => {
  await admin?.close();
});

const markdown = (source: string) => ({ json: { markdown: source, slug: 'bad-post', list: 'weekly' } });

interface AdminCase {
  name: string;
  method?: string;
  path: string;
  options: Parameters<AdminServer['call']>[2];
  status: number;
  body: Record<string, unknown>;
}

const cases: AdminCase[] = [
  {
    name: 'Markdown of 2 MB (under the body limit, over the post limit)',
    path: '/api/campaigns',
    options: markdown(`---\ntitle: Big\n---\n${'Lorem ipsum dolor sit amet. '.repeat(80_000)}`),
    status: 413,
    body: { code: 'POST_TOO_LARGE', file: 'bad-post.md', message: expect.stringMatching(/^the post is 2\.1 MB; a post may be at most 1 MB/) },
  },
  {
    name: 'Markdown with broken YAML front matter',
    path: '/api/campaigns',
    options: markdown('---\ntitle: Fine\ntags: [a, b\n---\nBody\n'),
    status: 400,
    body: { code: 'POST_FRONT_MATTER_INVALID', file: 'bad-post.md', line: 4, message: expect.stringContaining('front matter is not valid YAML') },
  },
  {
    name: 'Markdown whose front matter is a list',
    path: '/api/campaigns',
    options: markdown('---\n- title\n---\nBody\n'),
    status: 400,
    body: { code: 'POST_FRONT_MATTER_INVALID', file: 'bad-post.md', line: 2 },
  },
  {
    name: 'Markdown with a line break in the title',
    path: '/api/campaigns',
    options: markdown('---\ntitle: "Weekly\\r\\nBcc: everyone@example.com"\n---\nBody\n'),
    status: 400,
    body: { code: 'HEADER_VALUE_INVALID', file: 'bad-post.md', line: 2, field: 'title' },
  },
  {
    name: 'Markdown with a NUL character',
    path: '/api/campaigns',
    options: markdown('---\ntitle: Fine\n---\nBody\u0000\n'),
    status: 400,
    body: { code: 'POST_UNREADABLE', file: 'bad-post.md', message: expect.stringContaining('not a text file') },
  },
  {
    name: 'Markdown with an impossible date',
    path: '/api/campaigns',
    options: markdown('---\ntitle: Fine\ndate: 2024-02-30\n---\nBody\n'),
    status: 400,
    body: { code: 'POST_DATE_INVALID', file: 'bad-post.md', line: 3, field: 'date' },
  },
  {
    name: 'a CSV import in UTF-16 without a byte order mark',
    path: '/api/subscribers/import',
    options: { body: Buffer.from('email,name\nle@example.org,Zoë\n', 'utf16le'), type: 'text/csv' },
    status: 400,
    body: { code: 'IMPORT_FILE_INVALID', line: 1, message: expect.stringContaining('not UTF-8') },
  },
  {
    name: "a subscriber's unsubscribe token used as the bearer token",
    path: '/api/subscribers',
    options: { json: { email: 'new@example.org' }, token: createToken(DEV_SECRET, 'r0', 'unsubscribe') },
    status: 401,
    body: { code: 'ADMIN_TOKEN_INVALID' },
  },
  {
    name: 'no Authorization header at all, on a route that writes',
    method: 'DELETE',
    path: '/api/subscribers/r0@example.org',
    options: { token: null },
    status: 401,
    body: { code: 'ADMIN_TOKEN_INVALID' },
  },
  {
    name: 'the admin token given twice in one header',
    path: '/api/subscribers',
    options: { json: { email: 'new@example.org' }, token: `${TOKEN} ${TOKEN}` },
    status: 401,
    body: { code: 'ADMIN_TOKEN_INVALID' },
  },
];

describe('the admin API refuses bad input with its 4xx, code and location, and changes nothing', () => {
  it.each(cases)('$name', async ({ method = 'POST', path, options, status, body }) => {
    const before = await admin.snapshot();
    const response = await admin.call(method, path, options);
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ ok: false, ...body });
    expect(await admin.snapshot()).toEqual(before);
    expect(admin.harness.smtp.messages).toHaveLength(0);
  });

  it('a subscriber added with a line break in the name is stored with a space instead', async () => {
    const response = await admin.call('POST', '/api/subscribers', { json: { email: 'crlf@example.org', name: 'Mallory\r\nBcc: everyone@example.com' } });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ ok: true, subscriber: { name: 'Mallory Bcc: everyone@example.com' } });
    expect((await admin.harness.app.subscribers.getByEmail('crlf@example.org'))?.name).toBe('Mallory Bcc: everyone@example.com');
  });

  it('the right token still works (so the refusals above are about the input)', async () => {
    expect((await admin.call('GET', '/api/subscribers/count', { token: TOKEN })).status).toBe(200);
  });
});
