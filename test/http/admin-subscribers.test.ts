/** The admin API's subscriber routes over real HTTP, against real Redis. */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startAdminServer, TOKEN, type AdminServer } from '../helpers/admin-server.ts';

const fixture = (name: string) => readFile(new URL(`../fixtures/subscribers/${name}`, import.meta.url));

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
  admin = undefined;
});

describe('admin API: subscribers', () => {
  it('adds, gets (by address or id), lists, counts, changes the status of and removes a subscriber', async () => {
    admin = await startAdminServer();
    const added = await admin.call('POST', '/api/subscribers', { json: { email: 'Ann@Example.ORG', name: 'Ann Lee', list: 'weekly' } });
    expect(added.status).toBe(201);
    const { subscriber, created } = await added.json();
    expect(created).toBe(true);
    expect(subscriber).toMatchObject({ email: 'Ann@example.org', name: 'Ann Lee', lists: ['weekly'], status: 'active' });
    expect(subscriber.history[0].reason).toBe('added through the admin API');

    const again = await admin.call('POST', '/api/subscribers', { json: { email: 'ann@example.org', list: 'monthly' } });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ created: false, updated: true, subscriber: { lists: ['weekly', 'monthly'] } });
    await admin.call('POST', '/api/subscribers', { json: { email: 'bob@example.org' } });

    expect(await (await admin.call('GET', '/api/subscribers/ann@example.org')).json()).toMatchObject({ ok: true, subscriber: { id: subscriber.id } });
    expect(await (await admin.call('GET', `/api/subscribers/${subscriber.id}`)).json()).toMatchObject({ subscriber: { email: 'Ann@example.org' } });
    const page = await (await admin.call('GET', '/api/subscribers?list=weekly')).json();
    expect(page).toEqual({ ok: true, subscribers: [expect.objectContaining({ email: 'Ann@example.org' })], next: null });
    const first = await (await admin.call('GET', '/api/subscribers?limit=1')).json();
    expect(first.subscribers.map((s: { email: string }) => s.email)).toEqual(['Ann@example.org']);
    const second = await (await admin.call('GET', `/api/subscribers?limit=1&after=${first.next}`)).json();
    expect(second.subscribers.map((s: { email: string }) => s.email)).toEqual(['bob@example.org']);
    expect(await (await admin.call('GET', '/api/subscribers/count')).json()).toEqual({ ok: true, count: 2 });

    const changed = await admin.call('PATCH', '/api/subscribers/ann@example.org', { json: { status: 'unsubscribed', reason: 'asked by phone' } });
    expect(await changed.json()).toMatchObject({ ok: true, changed: true, subscriber: { status: 'unsubscribed' } });
    expect(await (await admin.call('GET', '/api/subscribers/count?status=active')).json()).toEqual({ ok: true, count: 1 });
    expect(await (await admin.call('GET', '/api/subscribers?status=unsubscribed')).json()).toMatchObject({ subscribers: [{ email: 'Ann@example.org' }] });

    const removed = await admin.call('DELETE', `/api/subscribers/${subscriber.id}`);
    expect(await removed.json()).toEqual({ ok: true, removed: { id: subscriber.id, email: 'Ann@example.org' } });
    const gone = await admin.call('GET', '/api/subscribers/ann@example.org');
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ ok: false, code: 'SUBSCRIBER_NOT_FOUND', field: 'email' });
  });

  it('imports a CSV body with the CLI import rules: good rows in, bad rows reported by line; the same file again changes nothing', async () => {
    admin = await startAdminServer();
    const csv = await fixture('bad-rows.csv');
    const response = await admin.call('POST', '/api/subscribers/import?list=weekly', { body: csv, type: 'text/csv' });
    expect(response.status).toBe(200);
    const report = await response.json();
    expect(Object.keys(report)).toEqual(['ok', 'imported', 'updated', 'unchanged', 'rejected', 'rejectedTotal', 'rejectedByKind']);
    expect(report).toMatchObject({ ok: true, imported: 2, updated: 0, unchanged: 0 });
    expect(report.rejected.map((r: { line: number }) => r.line)).toEqual([3, 4, 5]);
    expect(report.rejected[0].reason).toMatch(/not-an-address/);

    const before = await admin.snapshot();
    const again = await (await admin.call('POST', '/api/subscribers/import?list=weekly', { body: csv, type: 'text/csv; charset=utf-8' })).json();
    expect(again).toMatchObject({ imported: 0, updated: 0, unchanged: 2 });
    expect(await admin.snapshot()).toEqual(before);
  });

  it('imports a multipart upload (a browser form) the same way', async () => {
    admin = await startAdminServer();
    const form = new FormData();
    form.append('file', new Blob([await fixture('with-status.csv')], { type: 'text/csv' }), 'with-status.csv');
    const response = await admin.call('POST', '/api/subscribers/import', { body: form });
    expect(response.status).toBe(200);
    const report = await response.json();
    expect(report).toMatchObject({ ok: true, imported: 3, updated: 0, unchanged: 0, rejected: [] });
    expect(await (await admin.call('GET', '/api/subscribers/count')).json()).toEqual({ ok: true, count: 3 });
    expect(await (await admin.call('GET', '/api/subscribers/count?status=unsubscribed')).json()).toEqual({ ok: true, count: 1 });
  });

  it('exports CSV that imports back into an empty store unchanged', async () => {
    admin = await startAdminServer();
    await admin.call('POST', '/api/subscribers/import?list=weekly', { body: await fixture('good.csv'), type: 'text/csv' });
    const exported = await admin.call('GET', '/api/subscribers/export?list=weekly');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = await exported.text();
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toMatch(/^email,name,status,lists,created_at,updated_at/);
    const count = (await (await admin.call('GET', '/api/subscribers/count?list=weekly')).json()).count;
    expect(lines).toHaveLength(count + 1);

    const other = await startAdminServer();
    try {
      const report = await (await other.call('POST', '/api/subscribers/import', { body: text, type: 'text/csv' })).json();
      expect(report).toMatchObject({ imported: count, rejected: [] });
      const reexported = await (await other.call('GET', '/api/subscribers/export?list=weekly')).text();
      expect(reexported.split('\r\n')[0]).toBe(lines[0]);
      expect(reexported.split('\r\n').map((l) => l.split(',').slice(0, 4).join(','))).toEqual(
        text.split('\r\n').map((l) => l.split(',').slice(0, 4).join(',')),
      );
    } finally {
      await other.close();
    }
  });
});

describe('admin API: bad subscriber requests', () => {
  it('refuses a CSV body over the import limit: 413 before reading when its length is declared, and stops a streamed one at the limit', async () => {
    admin = await startAdminServer({ importMaxBytes: 1000 });
    const rows = (from: number, count: number) => Array.from({ length: count }, (_, i) => `r${from + i}@example.org,Reader ${from + i}\n`).join('');
    const big = `email,name\n${rows(0, 100)}`;
    const before = await admin.snapshot();
    const declared = await admin.call('POST', '/api/subscribers/import', { body: big, type: 'text/csv' });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({
      ok: false,
      code: 'REQUEST_TOO_LARGE',
      field: 'body',
      message: expect.stringMatching(/larger than 1000 bytes/),
    });
    expect(await admin.snapshot()).toEqual(before);

    // Chunked: no length is declared, so the limit is found while reading.
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const streamed = await fetch(`${admin.base}/api/subscribers/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ ok: false, code: 'REQUEST_TOO_LARGE', field: 'body' });
    // Within the limit it imports.
    const small = await admin.call('POST', '/api/subscribers/import', { body: `email,name\n${rows(0, 3)}`, type: 'text/csv' });
    expect(await small.json()).toMatchObject({ ok: true, imported: 3 });
  });

  it('answer 4xx with the code and the field, and change nothing in Redis', async () => {
    admin = await startAdminServer();
    await admin.call('POST', '/api/subscribers', { json: { email: 'kept@example.org', list: 'weekly' } });
    type Case = [string, string, string, Parameters<AdminServer['call']>[2], number, string, string?];
    const cases: Case[] = [
      ['malformed JSON', 'POST', '/api/subscribers', { body: '{"email":', type: 'application/json' }, 400, 'INPUT_INVALID', 'body'],
      [
        'a form instead of JSON',
        'POST',
        '/api/subscribers',
        { body: 'email=a%40example.org', type: 'application/x-www-form-urlencoded' },
        415,
        'CONTENT_TYPE_UNSUPPORTED',
        'body',
      ],
      ['an unknown field', 'POST', '/api/subscribers', { json: { email: 'new@example.org', status: 'active' } }, 400, 'INPUT_INVALID', 'status'],
      ['an invalid email', 'POST', '/api/subscribers', { json: { email: 'not-an-address' } }, 400, 'SUBSCRIBER_EMAIL_INVALID', 'email'],
      ['a list name with a space', 'POST', '/api/subscribers', { json: { email: 'new@example.org', list: 'two words' } }, 400, 'INPUT_INVALID', 'list'],
      ['a body over 16 KB', 'POST', '/api/subscribers', { json: { email: 'new@example.org', name: 'x'.repeat(20_000) } }, 413, 'REQUEST_TOO_LARGE', 'body'],
      ['an unknown status', 'PATCH', '/api/subscribers/kept@example.org', { json: { status: 'vanished' } }, 400, 'INPUT_INVALID', 'status'],
      ['a status change for no one', 'PATCH', '/api/subscribers/nobody@example.org', { json: { status: 'active' } }, 404, 'SUBSCRIBER_NOT_FOUND', 'email'],
      ['removing no one', 'DELETE', '/api/subscribers/nobody@example.org', {}, 404, 'SUBSCRIBER_NOT_FOUND', 'email'],
      ['an unknown filter status', 'GET', '/api/subscribers?status=gone', {}, 400, 'INPUT_INVALID', 'status'],
      ['a page size over 1000', 'GET', '/api/subscribers?limit=5000', {}, 400, 'INPUT_INVALID', 'limit'],
      ['an unknown export parameter', 'GET', '/api/subscribers/export?lists=weekly', {}, 400, 'INPUT_INVALID', 'lists'],
      [
        'a CSV without an email column',
        'POST',
        '/api/subscribers/import',
        { body: 'mail,name\na@example.org,A\n', type: 'text/csv' },
        400,
        'IMPORT_FILE_INVALID',
      ],
      ['an empty CSV', 'POST', '/api/subscribers/import', { body: '', type: 'text/csv' }, 400, 'IMPORT_FILE_INVALID'],
      ['an import without a body', 'POST', '/api/subscribers/import', {}, 400, 'INPUT_INVALID', 'body'],
      ['JSON sent to import', 'POST', '/api/subscribers/import', { json: { csv: 'email\na@example.org' } }, 415, 'CONTENT_TYPE_UNSUPPORTED', 'body'],
      [
        'an import into a bad list name',
        'POST',
        '/api/subscribers/import?list=a%20b',
        { body: 'email\na@example.org\n', type: 'text/csv' },
        400,
        'INPUT_INVALID',
        'list',
      ],
      ['an unknown admin route', 'GET', '/api/subscriberz', {}, 404, 'INPUT_INVALID', 'path'],
    ];
    const before = await admin.snapshot();
    for (const [what, method, path, options, status, code, field] of cases) {
      const response = await admin.call(method, path, options);
      expect(response.status, what).toBe(status);
      const body = await response.json();
      expect(body, what).toMatchObject({ ok: false, code });
      if (field) expect(body.field, what).toBe(field);
    }
    expect(await admin.snapshot()).toEqual(before);
  });
});
