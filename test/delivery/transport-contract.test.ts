/**
 * What transport.ts relies on in nodemailer's SMTP pool. It hands SMTPPool.send a mail object and
 * a message stream built by hand (see transport.ts), so a nodemailer release that reads one more
 * field, or pipes the stream differently, must fail here before it reaches a campaign: nodemailer
 * is pinned in package.json, and an upgrade passes this file first.
 *
 * The SMTP server is real and in this process, but its own rather than test/helpers/smtp-server.ts:
 * these checks need the received bytes as bytes, the connections counted, and the moments the
 * server took DATA and had the whole message.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { createTransport } from 'nodemailer';
import type { DKIMOptions } from 'nodemailer/lib/dkim';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { nodemailerTransport, type Envelope, type MessageTransport, type SendTimeouts } from '../../src/delivery/transport.ts';

/**
 * Everything nodemailer 10.6.0's pool (lib/smtp-pool, lib/smtp-connection) reads from the mail
 * object transport.ts hands it: `mail.data.*` and `mail.message.*`, and the envelope
 * `getEnvelope()` returns, and the abort signal transport.ts times each step with, calls with their
 * arguments (a function shown as `fn`). The pool keeps the transaction's state on that envelope;
 * what it set itself is not counted, `mailError` is read before a refused MAIL FROM sets it. Of the
 * signal it reads `aborted` after each send, listens for 'abort' while the send lasts, and reads
 * `reason` when it aborts.
 */
const POOL_READS = [
  'mail.data',
  'mail.data.dsn',
  'mail.data.requireTLSExtensionEnabled',
  'mail.data.signal',
  'mail.data.signal.addEventListener(\'abort\', fn, {"once":true})',
  'mail.data.signal.aborted',
  'mail.data.signal.reason',
  "mail.data.signal.removeEventListener('abort', fn)",
  'mail.message',
  "mail.message.getHeader('message-id')",
  'mail.message.getEnvelope()',
  'mail.message.getEnvelope().dsn',
  'mail.message.getEnvelope().from',
  'mail.message.getEnvelope().mailError',
  'mail.message.getEnvelope().requireTLSExtensionEnabled',
  'mail.message.getEnvelope().size',
  'mail.message.getEnvelope().to',
  'mail.message.getEnvelope().use8BitMime',
  'mail.message.messageId()',
  'mail.message.createReadStream()',
].sort();

/** One MAIL FROM ... DATA, as the server saw it. */
interface Transaction {
  connection: string;
  from: string;
  to: string;
  chunks: Buffer[];
  /** Message bytes received so far, after the server undid the dot-stuffing. */
  bytes: number;
  /** received: the end came and the server accepted the message; cut: the connection closed first. */
  outcome?: 'received' | 'cut';
}

interface Server {
  port: number;
  /** Session ids of every connection opened. */
  connections: Set<string>;
  transactions: Transaction[];
  /** In order: `data <to>` when the server took DATA (it answers 354 at once), `end <to>` when it had the whole message, `cut <to>`; tests add their own. */
  events: string[];
  received(to: string): Buffer;
  close(): Promise<void>;
}

const REPLY = '2.0.0 Ok: queued';

/**
 * What the server does, by recipient: refuse it (550), drop the connection mid-DATA, never answer
 * its RCPT TO, or, once it has the whole message, answer after `ms`, drop the connection or never answer.
 */
interface Script {
  reject?: string[];
  dropDuringData?: string[];
  silentRcpt?: string[];
  atEnd?: Record<string, { answerAfterMs: number } | 'drop' | 'silent'>;
}

async function startServer(script: Script = {}): Promise<Server> {
  const connections = new Set<string>();
  const transactions: Transaction[] = [];
  const events: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(session, callback) {
      connections.add(session.id);
      callback();
    },
    onRcptTo(address, _session, callback) {
      if (script.silentRcpt?.includes(address.address)) return;
      if (!script.reject?.includes(address.address)) return callback();
      callback(Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((r) => r.address).join(',');
      const transaction: Transaction = {
        connection: session.id,
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to,
        chunks: [],
        bytes: 0,
      };
      transactions.push(transaction);
      events.push(`data ${to}`);
      stream.on('data', (chunk: Buffer) => {
        transaction.chunks.push(chunk);
        transaction.bytes += chunk.length;
        if (script.dropDuringData?.includes(to)) cut(session);
      });
      stream.on('error', () => {
        transaction.outcome = 'cut';
        events.push(`cut ${to}`);
      });
      stream.on('end', () => {
        transaction.outcome = 'received';
        events.push(`end ${to}`);
        const answer = () => callback(null, `${REPLY} ${transactions.length}`);
        const atEnd = script.atEnd?.[to];
        if (atEnd === undefined) answer();
        else if (atEnd === 'drop') cut(session);
        else if (atEnd !== 'silent') setTimeout(answer, atEnd.answerAfterMs);
      });
    },
  });
  server.on('error', () => {});
  const open = () => (server as unknown as { connections: Set<{ session: unknown; _socket: { destroy(): void } }> }).connections;
  const cut = (session: unknown) => {
    for (const connection of open()) if (connection.session === session) connection._socket.destroy();
  };
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    connections,
    transactions,
    events,
    received(to) {
      const found = transactions.filter((t) => t.to === to && t.outcome === 'received');
      expect(found, `messages received for ${to}`).toHaveLength(1);
      return Buffer.concat(found[0]!.chunks);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A connection the script left waiting would keep close() waiting.
        for (const connection of open()) connection._socket.destroy();
      }),
  };
}

const isPlainObject = (value: unknown): value is object => typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
/** Objects whose reads are recorded too: plain ones, and the abort signal. */
const isRecorded = (value: unknown): value is object => isPlainObject(value) || value instanceof AbortSignal;
const shown = (arg: unknown) =>
  typeof arg === 'string' ? `'${arg}'` : typeof arg === 'function' ? 'fn' : isPlainObject(arg) ? JSON.stringify(arg) : String(arg);

/**
 * Records what nodemailer reads from an object we hand it: properties it did not set itself,
 * method calls with their arguments, and the same inside plain objects it gets from them.
 */
function recordReads<T extends object>(target: T, path: string, reads: Set<string>): T {
  const setByReader = new Set<PropertyKey>();
  const inner = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, key) {
      const value: unknown = Reflect.get(object, key);
      const name = `${path}.${String(key)}`;
      if (typeof value === 'function') {
        return (...args: unknown[]) => {
          const call = `${name}(${args.map(shown).join(', ')})`;
          reads.add(call);
          const result: unknown = value.apply(object, args);
          return isRecorded(result) ? recordReads(result, call, reads) : result;
        };
      }
      if (setByReader.has(key)) return value;
      reads.add(name);
      if (!isRecorded(value)) return value;
      if (!inner.has(key)) inner.set(key, recordReads(value, name, reads));
      return inner.get(key);
    },
    set(object, key, value) {
      setByReader.add(key);
      return Reflect.set(object, key, value);
    },
    has(object, key) {
      if (!setByReader.has(key)) reads.add(`'${String(key)}' in ${path}`);
      return Reflect.has(object, key);
    },
    ownKeys(object) {
      reads.add(`keys of ${path}`);
      return Reflect.ownKeys(object);
    },
  });
}

interface Opened {
  transport: MessageTransport;
  reads: Set<string>;
}
const opened: Opened[] = [];
const servers: Server[] = [];

/** As app.ts sets them up, but shorter: no step of the tests that do not time out comes near them. */
const TIMEOUTS: SendTimeouts = { commandMs: 5_000, endMs: 10_000 };

/** transport.ts over a real nodemailer pool set up as app.ts does, with every mail object it hands the pool recorded. */
function openTransport(server: { port: number }, options: { maxConnections?: number; dkim?: DKIMOptions; timeouts?: SendTimeouts } = {}): Opened {
  const timeouts = options.timeouts ?? TIMEOUTS;
  const mailer = createTransport({
    host: '127.0.0.1',
    port: server.port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: options.maxConnections ?? 1,
    maxMessages: 10_000,
    connectionTimeout: timeouts.commandMs,
    greetingTimeout: timeouts.commandMs,
    socketTimeout: Math.max(timeouts.commandMs, timeouts.endMs),
  });
  const reads = new Set<string>();
  const pool = (mailer as unknown as { transporter: { send(mail: object, callback: unknown): unknown } }).transporter;
  const send = pool.send.bind(pool);
  pool.send = (mail, callback) => send(recordReads(mail, 'mail', reads), callback);
  const result = { transport: nodemailerTransport(mailer, { dkim: options.dkim, timeouts }), reads };
  opened.push(result);
  return result;
}

async function serve(script?: Parameters<typeof startServer>[0]): Promise<Server> {
  const server = await startServer(script);
  servers.push(server);
  return server;
}

afterEach(async () => {
  // Whatever a test did, the pool read nothing beyond the list: a new field shows up here by name.
  const unexpected = opened.flatMap(({ reads }) => [...reads].filter((read) => !POOL_READS.includes(read)));
  for (const { transport } of opened.splice(0)) await transport.close();
  for (const server of servers.splice(0)) await server.close();
  expect(unexpected, 'read from the mail object by nodemailer, not in POOL_READS').toEqual([]);
});

const FROM = 'bounces+weekly@sofastack.tech';

/** A message as delivery writes one (CRLF, complete MIME), with the lines SMTP has to escape or carry as they are. */
function message(to: string, extraHeaders: string[] = []): Buffer {
  return Buffer.from(
    [
      'From: "SOFA Weekly" <weekly@sofastack.tech>',
      `To: <${to}>`,
      'Subject: =?UTF-8?B?U09GQSBXZWVrbHkg5q+P5ZGo57K+6YCJ?=',
      `Message-ID: <c1.${to}@sofastack.tech>`,
      ...extraHeaders,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'A long line (SMTP allows 998 octets, nodemailer does not fold):',
      'x'.repeat(1800),
      '.a line starting with a dot',
      '.',
      '..two dots',
      'UTF-8 as it is: naïve 每周精选',
      '',
    ].join('\r\n'),
  );
}

const envelope = (to: string): Envelope => ({ from: FROM, to, messageId: `c1.${to}@sofastack.tech` });

describe('the nodemailer pool, as transport.ts drives it', () => {
  it.each(['without', 'with'])('delivers our envelope and our bytes unchanged, and returns the server reply (%s beforeEnd)', async (mode) => {
    const server = await serve();
    const { transport } = openTransport(server);
    const to = `reader-${mode}@example.org`;
    const raw = message(to);
    const reply = await transport.send(envelope(to), raw, mode === 'with' ? async () => {} : undefined);
    expect(reply).toBe(`250 ${REPLY} 1`);
    expect(server.transactions).toMatchObject([{ from: FROM, to, outcome: 'received' }]);
    // The server undoes the dot-stuffing: identical bytes mean nodemailer stuffed ".", ".a" and "..".
    expect(server.received(to).equals(raw)).toBe(true);
  });

  it('runs beforeEnd once the server took DATA and has every byte but the end, and sends the end only after it', async () => {
    const server = await serve();
    const { transport } = openTransport(server);
    const to = 'reader@example.org';
    const raw = message(to);
    const reply = await transport.send(envelope(to), raw, async () => {
      server.events.push('beforeEnd');
      // The body goes at once; smtp-server keeps the last 4 bytes back until it sees what follows them.
      await expect.poll(() => server.transactions[0]?.bytes).toBeGreaterThanOrEqual(raw.length - 4);
      expect(server.transactions[0]?.outcome).toBeUndefined();
      server.events.push('beforeEnd resolved');
    });
    expect(reply).toBe(`250 ${REPLY} 1`);
    expect(server.events).toEqual([`data ${to}`, 'beforeEnd', 'beforeEnd resolved', `end ${to}`]);
    expect(server.received(to).equals(raw)).toBe(true);
  });

  it('never sends the end when beforeEnd fails: the send fails with its error, and the next message still goes through', async () => {
    const server = await serve();
    const { transport } = openTransport(server);
    const failure = new Error('unsubscribed while the message was on its way');
    await expect(
      transport.send(envelope('left@example.org'), message('left@example.org'), async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    // The connection closes without the end; the server then drops what it had of the message.
    await expect.poll(() => server.transactions[0]?.outcome).toBe('cut');
    expect(server.events).toEqual(['data left@example.org', 'cut left@example.org']);

    const raw = message('next@example.org');
    await expect(transport.send(envelope('next@example.org'), raw, async () => {})).resolves.toBe(`250 ${REPLY} 2`);
    expect(server.received('next@example.org').equals(raw)).toBe(true);
    expect(server.transactions.map((t) => t.outcome)).toEqual(['cut', 'received']);
  });

  it('keeps its connections open: 12 messages over maxConnections 3 open 3 connections', async () => {
    const server = await serve();
    const { transport } = openTransport(server, { maxConnections: 3 });
    const recipients = Array.from({ length: 12 }, (_, i) => `reader${i}@example.org`);
    await Promise.all(recipients.map((to, i) => transport.send(envelope(to), message(to), i % 2 ? async () => {} : undefined)));
    expect(server.transactions.map((t) => t.outcome)).toEqual(recipients.map(() => 'received'));
    expect(server.connections.size).toBe(3);
    for (const to of recipients) expect(server.received(to).equals(message(to))).toBe(true);
  });

  it('DKIM: the signature goes first, covers List-Unsubscribe and List-Unsubscribe-Post, and the message follows byte for byte', async () => {
    const server = await serve();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const { transport } = openTransport(server, { dkim: { domainName: 'sofastack.tech', keySelector: 'nl2026', privateKey: pem } });
    const to = 'reader@example.org';
    const raw = message(to, [
      'List-Unsubscribe: <https://sofastack.tech/u/t0k3n>, <mailto:unsubscribe@sofastack.tech>',
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    ]);
    for (const beforeEnd of [undefined, async () => {}]) {
      server.transactions.length = 0;
      await expect(transport.send(envelope(to), raw, beforeEnd)).resolves.toMatch(/^250 /);
      const received = server.received(to);
      const signature = /^DKIM-Signature: .*?\r\n(?![ \t])/s.exec(received.toString('latin1'))?.[0] ?? '';
      expect(signature).not.toBe('');
      const signatureEnd = signature.length;
      const tags = new Map(
        signature
          .slice(signature.indexOf(':') + 1)
          .replace(/\s+/g, '')
          .split(';')
          .map((tag) => [tag.slice(0, tag.indexOf('=')), tag.slice(tag.indexOf('=') + 1)]),
      );
      expect(tags.get('d')).toBe('sofastack.tech');
      expect(tags.get('s')).toBe('nl2026');
      expect(tags.get('h')!.toLowerCase().split(':')).toEqual(
        expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post', 'from', 'to', 'subject', 'message-id']),
      );
      expect(received.subarray(signatureEnd).equals(raw)).toBe(true);
    }
  });

  it('a 5xx to RCPT TO fails the send with responseCode and command; the connection is reset and used for the next message', async () => {
    const server = await serve({ reject: ['gone@example.org'] });
    const { transport } = openTransport(server);
    await expect(transport.send(envelope('gone@example.org'), message('gone@example.org'), async () => {})).rejects.toMatchObject({
      code: 'EENVELOPE',
      responseCode: 550,
      command: 'RCPT TO',
      response: '550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown',
    });
    await expect(transport.send(envelope('next@example.org'), message('next@example.org'), async () => {})).resolves.toMatch(/^250 /);
    expect(server.transactions).toMatchObject([{ to: 'next@example.org', outcome: 'received' }]);
    expect(server.connections.size).toBe(1);
  });

  it.each(['without', 'with'])(
    'a connection dropped mid-DATA fails the send, not resent (%s beforeEnd); the next message goes on a new connection',
    async (mode) => {
      const server = await serve({ dropDuringData: ['cut@example.org'] });
      const { transport } = openTransport(server);
      const beforeEnd = mode === 'with' ? async () => {} : undefined;
      // A reused connection: the pool puts a message back in its queue when the connection it was
      // given closes before a byte of it was read, and must not take this one for such a message.
      await transport.send(envelope('first@example.org'), message('first@example.org'), beforeEnd);
      await expect(transport.send(envelope('cut@example.org'), message('cut@example.org'), beforeEnd)).rejects.toMatchObject({ code: 'ECONNECTION' });
      await expect(transport.send(envelope('next@example.org'), message('next@example.org'), beforeEnd)).resolves.toMatch(/^250 /);
      expect(server.transactions.map((t) => `${t.to} ${t.outcome}`)).toEqual([
        'first@example.org received',
        'cut@example.org cut',
        'next@example.org received',
      ]);
      expect(server.connections.size).toBe(2);
    },
  );

  it('waits for the reply to the end up to endMs, longer than any other step may take, and keeps the connection', async () => {
    const server = await serve({ atEnd: { 'slow@example.org': { answerAfterMs: 800 } } });
    const { transport } = openTransport(server, { timeouts: { commandMs: 300, endMs: 5_000 } });
    const started = Date.now();
    await expect(transport.send(envelope('slow@example.org'), message('slow@example.org'), async () => {})).resolves.toBe(`250 ${REPLY} 1`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    await expect(transport.send(envelope('next@example.org'), message('next@example.org'))).resolves.toBe(`250 ${REPLY} 2`);
    expect(server.connections.size).toBe(1);
  });

  it.each(['without', 'with'])(
    'a reply to the end that never comes fails the send after endMs, marked endSent (%s beforeEnd); the next message goes on a new connection',
    async (mode) => {
      const server = await serve({ atEnd: { 'silent@example.org': 'silent' } });
      const { transport } = openTransport(server, { timeouts: { commandMs: 300, endMs: 1_000 } });
      const beforeEnd = mode === 'with' ? async () => {} : undefined;
      const started = Date.now();
      await expect(transport.send(envelope('silent@example.org'), message('silent@example.org'), beforeEnd)).rejects.toMatchObject({
        code: 'ETIMEDOUT',
        message: expect.stringMatching(/waited 1000 ms for the reply to the end of the message/),
        endSent: true,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(server.events).toEqual(['data silent@example.org', 'end silent@example.org']);
      await expect(transport.send(envelope('next@example.org'), message('next@example.org'), beforeEnd)).resolves.toMatch(/^250 /);
      expect(server.connections.size).toBe(2);
    },
  );

  it('a connection dropped after the end fails the send marked endSent; failures before the end are not marked', async () => {
    const server = await serve({
      atEnd: { 'dropped@example.org': 'drop' },
      reject: ['gone@example.org'],
      dropDuringData: ['cut@example.org'],
      silentRcpt: ['mute@example.org'],
    });
    const { transport } = openTransport(server, { timeouts: { commandMs: 400, endMs: 5_000 } });
    const failure = (to: string, beforeEnd?: () => Promise<void>) =>
      transport.send(envelope(to), message(to), beforeEnd).then(
        () => expect.unreachable(`${to} was accepted`),
        (error: unknown) => error as Record<string, unknown>,
      );
    for (const beforeEnd of [undefined, async () => {}]) {
      expect(await failure('dropped@example.org', beforeEnd)).toMatchObject({ code: expect.stringMatching(/^E(CONNECTION|SOCKET)$/), endSent: true });
      const gone = await failure('gone@example.org', beforeEnd);
      expect(gone).toMatchObject({ code: 'EENVELOPE', responseCode: 550 });
      const mute = await failure('mute@example.org', beforeEnd);
      expect(mute).toMatchObject({ code: 'ETIMEDOUT', message: expect.stringMatching(/waited 400 ms for the replies to the envelope/) });
      for (const error of [gone, mute]) expect(error).not.toHaveProperty('endSent');
    }
    // Cut mid-DATA, and the client saw it before the end was due.
    const cut = await failure('cut@example.org', async () => {
      await expect.poll(() => server.transactions.at(-1)?.outcome).toBe('cut');
    });
    expect(cut).toMatchObject({ code: 'ECONNECTION' });
    const left = await failure('left@example.org', async () => {
      throw new Error('unsubscribed while the message was on its way');
    });
    for (const error of [cut, left]) expect(error).not.toHaveProperty('endSent');
    expect(server.transactions.filter((t) => t.to === 'dropped@example.org').map((t) => t.outcome)).toEqual(['received', 'received']);
  });

  it('a relay that greets and then says nothing more fails the send after commandMs, not endMs', async () => {
    const sockets = new Set<Socket>();
    const relay = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.write('220 relay.example.org ESMTP\r\n');
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const { transport } = openTransport(relay.address() as AddressInfo, { timeouts: { commandMs: 400, endMs: 30_000 } });
      const started = Date.now();
      await expect(transport.send(envelope('a@example.org'), message('a@example.org'))).rejects.toMatchObject({
        code: 'ETIMEDOUT',
        message: expect.stringMatching(/waited 400 ms for setting the connection up/),
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    }
  });

  it('reads exactly POOL_READS from the mail object, over every path above', async () => {
    const server = await serve({
      reject: ['gone@example.org'],
      dropDuringData: ['cut@example.org'],
      silentRcpt: ['mute@example.org'],
      atEnd: { 'slow@example.org': { answerAfterMs: 800 }, 'silent@example.org': 'silent', 'dropped@example.org': 'drop' },
    });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const dkim = { domainName: 'sofastack.tech', keySelector: 'nl2026', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const reads = new Set<string>();
    const timeouts = { commandMs: 400, endMs: 1_500 };
    // The two transports (plain, DKIM) run side by side: each path's timeouts are waited out once.
    const paths = [openTransport(server, { timeouts }), openTransport(server, { dkim, timeouts })].map(async ({ transport, reads: read }) => {
      await transport.send(envelope('a@example.org'), message('a@example.org'));
      await transport.send(envelope('b@example.org'), message('b@example.org'), async () => {});
      await transport.send(envelope('gone@example.org'), message('gone@example.org'), async () => {}).catch(() => {});
      await transport
        .send(envelope('left@example.org'), message('left@example.org'), async () => {
          throw new Error('left');
        })
        .catch(() => {});
      await transport.send(envelope('c@example.org'), message('c@example.org'), async () => {});
      await transport.send(envelope('cut@example.org'), message('cut@example.org'), async () => {}).catch(() => {});
      for (const to of ['mute@example.org', 'slow@example.org', 'silent@example.org', 'dropped@example.org']) {
        await transport.send(envelope(to), message(to), async () => {}).catch(() => {});
      }
      for (const r of read) reads.add(r);
    });
    await Promise.all(paths);
    expect([...reads].sort()).toEqual(POOL_READS);
  });
});
