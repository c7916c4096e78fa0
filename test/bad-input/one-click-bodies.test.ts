/**
 * RFC 8058 one-click unsubscribe with bodies of any size. The RFC names only the body
 * `List-Unsubscribe=One-Click`, but a mailbox provider (or a gateway in front of it) may
 * send more: the unsubscribe must happen whatever the body's size or shape. The server
 * reads at most the first 16 KB and discards the rest; every other route keeps its 16 KB
 * limit (413).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/subscribers/tokens.ts';
import { changedEntries } from '../helpers/dump-keys.ts';
import { recordEntry } from '../helpers/subscriber-entries.ts';
import { SECRET, openWorld, startWeb, type Web, type World } from './harness.ts';

let world: World;
let web: Web;

beforeAll(async () => {
  world = await openWorld('one-click-bodies');
  web = await startWeb(world);
});
afterAll(async () => {
  await web?.close();
  await world?.close();
});

const FORM = 'application/x-www-form-urlencoded';
const KB = 1024;

/** A subscriber of its own, and the keys that may change when it unsubscribes (its record alone). */
async function reader(label: string) {
  const { subscriber } = await world.store.add({ email: `${label}@example.com`, lists: ['weekly'] });
  return {
    subscriber,
    path: `/unsubscribe/${createToken(SECRET, subscriber.id, 'unsubscribe')}`,
    key: recordEntry(world.prefix, subscriber.id),
  };
}

async function changedKeys(before: Awaited<ReturnType<typeof world.snapshot>>): Promise<string[]> {
  return changedEntries(before, await world.snapshot());
}

/** POST with a chunked body (no Content-Length), written in pieces as a streaming client would. */
function postChunked(path: string, chunks: Buffer[], type: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${web.base}${path}`, { method: 'POST', headers: { 'content-type': type, accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const LARGE: [name: string, body: () => string | Buffer, type: string][] = [
  ['a form of 20 KB', () => `List-Unsubscribe=One-Click&pad=${'x'.repeat(20 * KB)}`, FORM],
  ['a form of 1 MB, the one-click field last', () => `pad=${'x'.repeat(1024 * KB)}&List-Unsubscribe=One-Click`, FORM],
  ['1 MB of binary', () => Buffer.alloc(1024 * KB, 0xff), 'application/octet-stream'],
  [
    'a multipart body with a 200 KB file',
    () =>
      '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n' +
      `--b\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n\r\n${'y'.repeat(200 * KB)}\r\n--b--\r\n`,
    'multipart/form-data; boundary=b',
  ],
  ['a Content-Type that is no media type', () => 'List-Unsubscribe=One-Click', 'One-Click'],
];

describe('POST /unsubscribe/:token (one-click) with any body', () => {
  it.each(LARGE)('%s: unsubscribes (200), and changes only that subscriber', async (name, body, type) => {
    const { subscriber, path, key } = await reader(`big-${name.length}`);
    const before = await world.snapshot();
    const response = await web.request('POST', path, { body: body(), type });
    expect(response.status).toBe(200);
    expect((await world.store.get(subscriber.id))?.status).toBe('unsubscribed');
    expect(await changedKeys(before)).toEqual([key]);
  });

  it('a chunked body of 2 MB with no Content-Length: unsubscribes (200)', async () => {
    const { subscriber, path } = await reader('chunked');
    const chunks = [Buffer.from('List-Unsubscribe=One-Click&pad='), ...Array.from({ length: 32 }, () => Buffer.alloc(64 * KB, 0x78))];
    const answer = await postChunked(path, chunks, FORM);
    expect(answer.status, answer.body).toBe(200);
    expect((await world.store.get(subscriber.id))?.status).toBe('unsubscribed');
  });

  it('an empty Content-Type header: unsubscribes (200)', async () => {
    const { subscriber, path } = await reader('empty-type');
    const answer = await postChunked(path, [Buffer.from('List-Unsubscribe=One-Click')], '');
    expect(answer.status, answer.body).toBe(200);
    expect((await world.store.get(subscriber.id))?.status).toBe('unsubscribed');
  });

  it('a forged token with a 1 MB body is still refused (400 UNSUBSCRIBE_TOKEN_INVALID), and nothing changes', async () => {
    const { path } = await reader('forged');
    const forged = `${path.slice(0, path.indexOf('.'))}.${'A'.repeat(43)}`;
    const before = await world.snapshot();
    const response = await web.request('POST', forged, { body: `List-Unsubscribe=One-Click&pad=${'x'.repeat(1024 * KB)}`, type: FORM });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ ok: false, code: 'UNSUBSCRIBE_TOKEN_INVALID' });
    expect(await changedKeys(before)).toEqual([]);
  });

  it('other routes keep their 16 KB limit: POST /subscribe with 20 KB gets 413 and stores nothing', async () => {
    const before = await world.snapshot();
    const response = await web.request('POST', '/subscribe', { body: `email=big@example.com&name=${'x'.repeat(20 * KB)}`, type: FORM });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ ok: false, code: 'REQUEST_TOO_LARGE' });
    expect(await changedKeys(before)).toEqual([]);
  });
});
