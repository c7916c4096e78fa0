/**
 * Bad tokens against the real web server: forged, truncated, another subscriber's, made
 * for the other purpose, stale. Every one gets 400 UNSUBSCRIBE_TOKEN_INVALID, "Nothing was
 * changed", and Redis holds exactly what it held before.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, type TokenPurpose } from '../../src/subscribers/tokens.ts';
import { SECRET, openWorld, startWeb, type Web, type World } from './harness.ts';

let world: World;
let web: Web;
const ids: Record<'active' | 'other' | 'pending' | 'unsubscribed' | 'removed', string> = {} as never;

beforeAll(async () => {
  world = await openWorld('bad-tokens');
  web = await startWeb(world);
  const add = async (email: string, status: 'active' | 'pending') => (await world.store.add({ email, status, lists: ['weekly'] })).subscriber.id;
  ids.active = (await world.store.getByEmail('ann@example.com'))!.id;
  ids.other = (await world.store.getByEmail('bob@example.com'))!.id;
  ids.pending = await add('pending@example.com', 'pending');
  ids.unsubscribed = await add('left@example.com', 'active');
  await world.store.unsubscribe(ids.unsubscribed, 'test');
  ids.removed = await add('gone@example.com', 'active');
  await world.store.remove(ids.removed);
});
afterAll(async () => {
  await web?.close();
  await world?.close();
});

const token = (id: string, purpose: TokenPurpose, secret = SECRET) => createToken(secret, id, purpose);
const idPart = (t: string) => t.slice(0, t.indexOf('.'));
const macPart = (t: string) => t.slice(t.indexOf('.') + 1);

interface BadToken {
  name: string;
  token: () => string;
  /** Which routes it is tried against. */
  routes: ('GET /unsubscribe' | 'POST /unsubscribe' | 'GET /confirm')[];
  message: RegExp;
}

const INVALID = /^The link is not valid: it was changed, cut short, or has expired\. Nothing was changed\./;
const STALE = /^The link refers to an address that is no longer on the list\. Nothing was changed\./;
const ALL = ['GET /unsubscribe', 'POST /unsubscribe', 'GET /confirm'] as BadToken['routes'];

const cases: BadToken[] = [
  {
    name: 'forged: a real id with a made-up signature',
    token: () => `${idPart(token(ids.active, 'unsubscribe'))}.${randomBytes(32).toString('base64url')}`,
    routes: ALL,
    message: INVALID,
  },
  {
    name: 'forged: signed with a secret the server never had',
    token: () => token(ids.active, 'unsubscribe', 'some-other-secret-'.padEnd(48, 'y')),
    routes: ALL,
    message: INVALID,
  },
  { name: 'truncated: the last characters cut off', token: () => token(ids.active, 'unsubscribe').slice(0, -5), routes: ALL, message: INVALID },
  { name: 'truncated: only the id, no signature', token: () => idPart(token(ids.active, 'unsubscribe')), routes: ALL, message: INVALID },
  { name: 'padded: "=" appended to a valid token', token: () => `${token(ids.active, 'unsubscribe')}=`, routes: ['POST /unsubscribe'], message: INVALID },
  {
    name: 'altered: one character of the signature changed',
    token: () => {
      const t = token(ids.active, 'unsubscribe');
      const mac = macPart(t);
      return `${idPart(t)}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    },
    routes: ['POST /unsubscribe'],
    message: INVALID,
  },
  {
    name: "another subscriber's: Bob's id with Ann's signature",
    token: () => `${idPart(token(ids.other, 'unsubscribe'))}.${macPart(token(ids.active, 'unsubscribe'))}`,
    routes: ALL,
    message: INVALID,
  },
  {
    name: 'wrong purpose: a confirmation token used to unsubscribe',
    token: () => token(ids.active, 'confirm'),
    routes: ['GET /unsubscribe', 'POST /unsubscribe'],
    message: INVALID,
  },
  { name: 'wrong purpose: an unsubscribe token used to confirm', token: () => token(ids.pending, 'unsubscribe'), routes: ['GET /confirm'], message: INVALID },
  {
    name: 'stale: the subscriber was removed',
    token: () => token(ids.removed, 'unsubscribe'),
    // POST: see "a one-click POST for a removed subscriber" below.
    routes: ['GET /unsubscribe'],
    message: STALE,
  },
  { name: 'stale: a confirmation link for a removed subscriber', token: () => token(ids.removed, 'confirm'), routes: ['GET /confirm'], message: STALE },
  {
    name: 'stale: an old confirmation link after the subscriber unsubscribed',
    token: () => token(ids.unsubscribed, 'confirm'),
    routes: ['GET /confirm'],
    message: /^This confirmation link is no longer valid\. Nothing was changed\./,
  },
  { name: 'garbage: three dots', token: () => 'a.b.c', routes: ALL, message: INVALID },
  { name: 'garbage: not base64url', token: () => encodeURIComponent('ab$%.cd!*'), routes: ALL, message: INVALID },
];

describe('a bad token gets 400 UNSUBSCRIBE_TOKEN_INVALID and changes nothing', () => {
  for (const { name, token: make, routes, message } of cases) {
    it.each(routes)(`${name} (%s)`, async (route) => {
      const [method, path] = route.split(' ') as [string, string];
      const before = await world.snapshot();
      const response = await web.request(
        method,
        `${path}/${make()}`,
        method === 'POST' ? { body: 'List-Unsubscribe=One-Click', type: 'application/x-www-form-urlencoded' } : {},
      );
      expect(response.status).toBe(400);
      const body = (await response.json()) as { ok: boolean; code: string; message: string };
      expect(body).toMatchObject({ ok: false, code: 'UNSUBSCRIBE_TOKEN_INVALID' });
      expect(body.message).toMatch(message);
      expect(await world.snapshot()).toEqual(before);
    });
  }

  it('a one-click POST for a removed subscriber is answered 200 (RFC 8058: done, nothing to follow), and changes nothing', async () => {
    for (const id of [ids.removed, 'never-existed-0123456789']) {
      const before = await world.snapshot();
      const response = await web.request('POST', `/unsubscribe/${token(id, 'unsubscribe')}`, {
        body: 'List-Unsubscribe=One-Click',
        type: 'application/x-www-form-urlencoded',
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain('This address is not on the list');
      expect(await world.snapshot()).toEqual(before);
    }
  });

  it('a browser gets the same refusal as a readable page, with nothing of the token echoed', async () => {
    const forged = `${idPart(token(ids.active, 'unsubscribe'))}.${randomBytes(32).toString('base64url')}`;
    const before = await world.snapshot();
    const response = await fetch(`${web.base}/unsubscribe/${forged}`, {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain('This link is not valid');
    expect(page).toContain('Nothing was changed.');
    expect(page).not.toContain(forged.split('.')[1]!);
    expect(await world.snapshot()).toEqual(before);
  });

  it('a token longer than any real one (5,000 characters) is refused without reaching a route', async () => {
    const before = await world.snapshot();
    for (const [method, path] of [
      ['GET', '/unsubscribe'],
      ['POST', '/unsubscribe'],
      ['GET', '/confirm'],
    ] as const) {
      const response = await web.request(method, `${path}/${'A'.repeat(2500)}.${'B'.repeat(2500)}`);
      // 414 comes from the router (the path parameter is over its length limit), before any route runs.
      expect(response.status, `${method} ${path}`).toBe(414);
      const answer = await response.text();
      expect(JSON.parse(answer), 'our error shape and code').toMatchObject({ ok: false, code: 'REQUEST_TOO_LARGE' });
      expect(answer, 'the token is not echoed').not.toContain('AAAAAAAAAA');
    }
    expect(await world.snapshot()).toEqual(before);
  });

  it('the same tokens, made right, do work (so the refusals above are about the token)', async () => {
    expect((await web.request('GET', `/unsubscribe/${token(ids.active, 'unsubscribe')}`)).status).toBe(200);
    expect((await web.request('GET', `/confirm/${token(ids.pending, 'confirm')}`)).status).toBe(200);
    expect((await world.store.get(ids.pending))?.status, 'GET only shows the button').toBe('pending');
    expect((await web.request('POST', `/confirm/${token(ids.pending, 'confirm')}`)).status).toBe(200);
    expect((await world.store.get(ids.pending))?.status).toBe('active');
  });
});
