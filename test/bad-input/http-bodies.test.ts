/**
 * Bad request bodies against the public routes of the real web server: oversized, the
 * wrong content type, malformed JSON, fields of the wrong shape. Each gets its 4xx and
 * code, never a 500, and Redis holds exactly what it held before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/subscribers/tokens.ts';
import { changedEntries } from '../helpers/dump-keys.ts';
import { recordEntry } from '../helpers/subscriber-entries.ts';
import { SECRET, openWorld, startWeb, type Web, type World } from './harness.ts';

let world: World;
let web: Web;

beforeAll(async () => {
  world = await openWorld('bad-bodies');
  web = await startWeb(world);
});
afterAll(async () => {
  await web?.close();
  await world?.close();
});

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

function multipart(parts: { name: string; value: string; filename?: string }[]): { body: string; type: string } {
  const boundary = '----bad-input-boundary';
  const body = parts
    .map(
      ({ name, value, filename }) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"\r\nContent-Type: application/octet-stream` : ''}\r\n\r\n${value}\r\n`,
    )
    .join('');
  return { body: `${body}--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}` };
}

interface BadBody {
  name: string;
  body: string | Buffer;
  type?: string;
  status: number;
  code: string;
  message?: RegExp;
}

const bigEmail = `${'a'.repeat(20 * 1024)}@example.com`;
const subscribeCases: BadBody[] = [
  { name: 'an oversized form (20 KB)', body: `email=${bigEmail}`, type: FORM, status: 413, code: 'REQUEST_TOO_LARGE' },
  { name: 'an oversized JSON body (20 KB)', body: JSON.stringify({ email: bigEmail }), type: JSON_TYPE, status: 413, code: 'REQUEST_TOO_LARGE' },
  {
    name: 'a content type the route does not read (text/plain)',
    body: 'email=new@example.com',
    type: 'text/plain',
    status: 415,
    code: 'CONTENT_TYPE_UNSUPPORTED',
  },
  {
    name: 'a content type the route does not read (application/xml)',
    body: '<email>new@example.com</email>',
    type: 'application/xml',
    status: 415,
    code: 'CONTENT_TYPE_UNSUPPORTED',
  },
  { name: 'no content type at all', body: Buffer.from('email=new@example.com'), status: 415, code: 'CONTENT_TYPE_UNSUPPORTED' },
  { name: 'malformed JSON', body: '{"email": "new@example.com",', type: JSON_TYPE, status: 400, code: 'INPUT_INVALID' },
  { name: 'JSON with a trailing comma and a comment', body: '{"email": "new@example.com", /* hi */ }', type: JSON_TYPE, status: 400, code: 'INPUT_INVALID' },
  {
    name: 'JSON that is an array',
    body: '["new@example.com"]',
    type: JSON_TYPE,
    status: 400,
    code: 'SUBSCRIBER_EMAIL_INVALID',
    message: /is not a valid email address: empty/,
  },
  { name: 'JSON null', body: 'null', type: JSON_TYPE, status: 400, code: 'SUBSCRIBER_EMAIL_INVALID' },
  {
    name: 'JSON with the email as a list',
    body: JSON.stringify({ email: ['new@example.com'] }),
    type: JSON_TYPE,
    status: 400,
    code: 'INPUT_INVALID',
    message: /^Email must be text\.$/,
  },
  {
    name: 'JSON with the name as an object',
    body: JSON.stringify({ email: 'new@example.com', name: { first: 'N' } }),
    type: JSON_TYPE,
    status: 400,
    code: 'INPUT_INVALID',
    message: /^Name must be text\.$/,
  },
  { name: 'JSON with a __proto__ key', body: '{"__proto__": {"email": "new@example.com"}}', type: JSON_TYPE, status: 400, code: 'INPUT_INVALID' },
  { name: 'a form without an email', body: 'name=Nobody', type: FORM, status: 400, code: 'SUBSCRIBER_EMAIL_INVALID', message: /empty/ },
  {
    name: 'a form with an invalid email',
    body: 'email=new%40',
    type: FORM,
    status: 400,
    code: 'SUBSCRIBER_EMAIL_INVALID',
    message: /^"new@" is not a valid email address/,
  },
  {
    name: 'a form naming a list that does not exist',
    body: 'email=new@example.com&list=invented',
    type: FORM,
    status: 400,
    code: 'INPUT_INVALID',
    message: /^There is no list called "invented"\.$/,
  },
  {
    name: 'a multipart form carrying a file',
    ...multipart([
      { name: 'email', value: 'new@example.com' },
      { name: 'cv', value: 'x'.repeat(100), filename: 'cv.exe' },
    ]),
    status: 413,
    code: 'REQUEST_TOO_LARGE',
  },
  {
    name: 'a multipart form with too many fields',
    ...multipart(Array.from({ length: 12 }, (_, i) => ({ name: `f${i}`, value: 'x' }))),
    status: 413,
    code: 'REQUEST_TOO_LARGE',
  },
];

describe('POST /subscribe refuses a bad body with a 4xx and its code, sends nothing and changes nothing', () => {
  it.each(subscribeCases)('$name', async ({ body, type, status, code, message }) => {
    const before = await world.snapshot();
    const response = await web.request('POST', '/subscribe', { body, type });
    expect(response.status).toBe(status);
    const answer = (await response.json()) as { ok: boolean; code: string; message: string };
    expect(answer).toMatchObject({ ok: false, code });
    if (message) expect(answer.message).toMatch(message);
    expect(await world.snapshot()).toEqual(before);
    expect(web.smtp.messages).toHaveLength(0);
  });
});

describe('POST /unsubscribe/:token and bodies', () => {
  // The one deliberate exception: whatever body a mailbox provider posts with a valid token
  // (RFC 8058 names only List-Unsubscribe=One-Click), the unsubscribe must happen; large
  // bodies: one-click-bodies.test.ts.
  it.each([
    ['malformed JSON', '{"List-Unsubscribe": ', JSON_TYPE],
    ['an unknown content type', 'whatever', 'application/x-unknown'],
  ])('%s with a valid token still unsubscribes, and changes only that subscriber', async (_name, body, type) => {
    const { subscriber } = await world.store.add({ email: `one-click-${type.length}@example.com`, lists: ['weekly'] });
    const before = await world.snapshot();
    const response = await web.request('POST', `/unsubscribe/${createToken(SECRET, subscriber.id, 'unsubscribe')}`, { body, type });
    expect(response.status).toBe(200);
    expect((await world.store.get(subscriber.id))?.status).toBe('unsubscribed');
    expect(changedEntries(before, await world.snapshot())).toEqual([recordEntry(world.prefix, subscriber.id)]);
  });
});
