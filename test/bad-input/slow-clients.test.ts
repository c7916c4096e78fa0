/**
 * Slow clients (slowloris) against the real web server over real sockets: headers or a body
 * sent one byte at a time, connections that never send a byte, keep-alive connections left
 * idle. Each is cut by its timeout (we wait for the socket's close event and check when it
 * came), while /healthz and a one-click unsubscribe keep answering during the attack. The
 * server is built with short limits through ServerDeps; production defaults live in
 * src/http/connection-limits.ts.
 */
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionLimits } from '../../src/http/connection-limits.ts';
import { createServer } from '../../src/http/server.ts';
import { buildWebServer } from '../../src/processes/web-server.ts';
import { createToken } from '../../src/subscribers/tokens.ts';
import { startHarness } from '../helpers/delivery-harness.ts';
import { SECRET, openWorld, type World } from './harness.ts';

// Long enough that the answers during the attack come before any cut, even on a loaded 2-core machine.
const LIMITS: ConnectionLimits = {
  headersTimeoutMs: 3_000,
  bodyTimeoutMs: 3_000,
  keepAliveTimeoutMs: 1_000,
  // Longer than any gap between a slow client's bytes: only the header and body timeouts may cut them.
  idleTimeoutMs: 10_000,
  maxConnections: 1_000,
};
/** How late a cut may come: Node looks at header deadlines every quarter of the timeout, and the CPU is shared. */
const SLACK_MS = 2_000;
const BYTE_EVERY_MS = 200;

let world: World;
let server: FastifyInstance;
let port: number;

async function startServer(limits: Partial<ConnectionLimits>): Promise<{ server: FastifyInstance; port: number }> {
  const built = await createServer({
    subscribers: world.store,
    secrets: { current: SECRET },
    publicUrl: 'https://news.example',
    identity: { name: 'Bad Input Weekly', fromAddress: 'weekly@example.com', siteUrl: 'https://example.com' },
    mailer: undefined,
    ping: () => world.redis.ping(),
    connectionLimits: limits,
  });
  const base = await built.listen({ port: 0, host: '127.0.0.1' });
  return { server: built, port: Number(new URL(base).port) };
}

beforeAll(async () => {
  world = await openWorld('slow-clients');
  ({ server, port } = await startServer(LIMITS));
});
afterAll(async () => {
  await server?.close();
  await world?.close();
});

interface Client {
  kind: string;
  socket: Socket;
  openedAt: number;
  /** Resolves with the ms from opening to the close event. */
  closed: Promise<number>;
  isOpen(): boolean;
  /** What the server wrote before closing (a 408, or nothing). */
  received(): string;
}

/**
 * A client that writes `head` at once, then `trickle` one piece (by default one byte) every
 * `every` ms: never idle long enough for the idle timeout, never done before its header or
 * body timeout.
 */
function slowClient(kind: string, head: string, trickle: string | string[], { target = port, every = BYTE_EVERY_MS } = {}): Client {
  const openedAt = Date.now();
  const socket = connect(target, '127.0.0.1');
  let open = true;
  let data = '';
  const pieces = typeof trickle === 'string' ? [...trickle] : trickle;
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  socket.on('error', () => {});
  socket.on('data', (chunk) => (data += chunk.toString('latin1')));
  socket.on('connect', () => {
    if (head) socket.write(head);
    if (pieces.length)
      timer = setInterval(() => {
        if (sent < pieces.length && socket.writable) socket.write(pieces[sent++]!);
      }, every);
  });
  const closed = new Promise<number>((resolve) =>
    socket.on('close', () => {
      open = false;
      clearInterval(timer);
      resolve(Date.now() - openedAt);
    }),
  );
  return { kind, socket, openedAt, closed, isOpen: () => open, received: () => data };
}

/** Waits for the close event, but not for ever: a client still open after `ms` fails the test with that fact. */
async function closedWithin(client: Client, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${client.kind}: still open ${ms} ms after it connected`)), ms - (Date.now() - client.openedAt));
  });
  try {
    return await Promise.race([client.closed, late]);
  } finally {
    clearTimeout(timer);
    if (client.isOpen()) client.socket.destroy();
  }
}

const subscribeHead = 'POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n';
const slowHeaders = `GET /healthz HTTP/1.1\r\nHost: x\r\n${'X-Slow: y\r\n'.repeat(200)}\r\n`;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

describe('slow clients are cut by their timeouts while the server keeps answering', () => {
  it('400 slow connections (headers or bodies a byte at a time, silent ones) are cut; /healthz and a one-click unsubscribe answer during the attack', async () => {
    const { subscriber } = await world.store.add({ email: 'during-attack@example.com', lists: ['weekly'] });
    const unsubscribeToken = createToken(SECRET, subscriber.id, 'unsubscribe');
    const ann = (await world.store.getByEmail('ann@example.com'))!;
    const oneClickHead = `POST /unsubscribe/${createToken(SECRET, ann.id, 'unsubscribe')} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n`;

    const clients: Client[] = [];
    for (let i = 0; i < 150; i++) clients.push(slowClient('slow headers', '', slowHeaders));
    for (let i = 0; i < 150; i++) clients.push(slowClient('slow body', subscribeHead, `email=a${'b'.repeat(9_990)}`));
    for (let i = 0; i < 50; i++) clients.push(slowClient('slow one-click body', oneClickHead, 'x'.repeat(10_000)));
    for (let i = 0; i < 50; i++) clients.push(slowClient('silent', '', ''));
    await Promise.all(clients.map((c) => new Promise((resolve) => (c.socket.remotePort ? resolve(null) : c.socket.once('connect', resolve)))));

    // The attack is on: every slow client is connected. The server answers others meanwhile.
    const health: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { ms, value } = await timed(() => fetch(`http://127.0.0.1:${port}/healthz`));
      expect(value.status).toBe(200);
      health.push(ms);
    }
    const oneClick = await timed(() =>
      fetch(`http://127.0.0.1:${port}/unsubscribe/${unsubscribeToken}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      }),
    );
    expect(oneClick.value.status).toBe(200);
    expect((await world.store.get(subscriber.id))?.status).toBe('unsubscribed');
    const openDuringAnswers = clients.filter((c) => c.isOpen()).length;

    const cutAfter = await Promise.all(clients.map((c) => closedWithin(c, LIMITS.headersTimeoutMs + SLACK_MS)));
    const byKind = new Map<string, number[]>();
    clients.forEach((c, i) => byKind.set(c.kind, [...(byKind.get(c.kind) ?? []), cutAfter[i]!]));
    const figures = [...byKind].map(([kind, ms]) => `${kind} ${ms.length}: cut after ${Math.min(...ms)}-${Math.max(...ms)} ms`);
    console.log(
      `slow clients: ${figures.join('; ')}; /healthz during the attack ${Math.min(...health).toFixed(1)}-${Math.max(...health).toFixed(1)} ms, one-click unsubscribe ${oneClick.ms.toFixed(1)} ms, ${openDuringAnswers} of ${clients.length} slow clients open meanwhile`,
    );

    expect(openDuringAnswers, 'the answers came while the attack was on').toBe(clients.length);
    // Cut by the timeout, not earlier by something else.
    for (const ms of cutAfter) expect(ms).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 100);
    // Ann's one-click body never arrived in full: the request was cut before it went through.
    expect((await world.store.get(ann.id))?.status).toBe('active');
    // After the attack the server is as responsive as before.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const client = slowClient('keep-alive', 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', '');
    const ms = await closedWithin(client, LIMITS.keepAliveTimeoutMs + SLACK_MS);
    expect(client.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(ms).toBeGreaterThanOrEqual(LIMITS.keepAliveTimeoutMs - 100);
  });

  it('beyond the connection cap new connections are closed at once, and the server answers again once the slow ones are cut', async () => {
    const capped = await startServer({ ...LIMITS, maxConnections: 20 });
    const silent = Array.from({ length: 20 }, () => slowClient('silent', '', '', { target: capped.port }));
    try {
      await Promise.all(silent.map((c) => new Promise((resolve) => c.socket.once('connect', resolve))));
      // Node refuses connections over the cap as they are accepted: this one closes long before any timeout.
      const over = slowClient('over the cap', 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', '', { target: capped.port });
      expect(await closedWithin(over, LIMITS.headersTimeoutMs - 500)).toBeLessThan(LIMITS.headersTimeoutMs - 500);
      expect(over.received()).toBe('');
      for (const client of silent) await closedWithin(client, LIMITS.headersTimeoutMs + SLACK_MS);
      expect((await fetch(`http://127.0.0.1:${capped.port}/healthz`)).status).toBe(200);
    } finally {
      for (const client of silent) client.socket.destroy();
      await capped.server.close();
    }
  });
});

describe('the admin API, behind its token, may take longer than the body timeout', () => {
  it('an authenticated CSV import sent slowly completes; the same upload without the token gets 401 and is cut', async () => {
    const TOKEN = 'slow-clients-admin-token-'.padEnd(48, 'k');
    const h = await startHarness({ env: { NEWSLETTER_ADMIN_TOKEN: TOKEN } });
    const admin = await buildWebServer(h.app, { overrides: { mailer: undefined, connectionLimits: LIMITS } });
    const target = Number(new URL(await admin.listen({ port: 0, host: '127.0.0.1' })).port);
    try {
      // A row every 500 ms: the body takes 3 s, longer than the body timeout, never idle for long.
      const rows = ['email\n', ...Array.from({ length: 6 }, (_, i) => `slow${i}@example.org\n`)];
      const length = rows.join('').length;
      const head = (authorization: string) =>
        `POST /api/subscribers/import?list=weekly HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${length}\r\n${authorization}\r\n`;
      const authorized = slowClient('authenticated import', head(`Authorization: Bearer ${TOKEN}\r\n`), rows, { target, every: 500 });
      const refused = slowClient('import without the token', head(''), [...rows.join('')], { target });

      await closedWithin(refused, LIMITS.bodyTimeoutMs + SLACK_MS);
      expect(refused.received()).toMatch(/^HTTP\/1\.1 401 /);

      await expect.poll(() => authorized.received(), { timeout: 10_000 }).toMatch(/\r\n\r\n\{.*\}$/s);
      expect(authorized.received()).toMatch(/^HTTP\/1\.1 200 /);
      expect(JSON.parse(authorized.received().split('\r\n\r\n')[1]!)).toMatchObject({ ok: true, imported: 6 });
      expect(Date.now() - authorized.openedAt).toBeGreaterThan(LIMITS.bodyTimeoutMs);
      authorized.socket.destroy();
    } finally {
      await admin.close();
      await h.close();
    }
  });
});
