/**
 * Hostile and broken input to `newsletter inbound` over real sockets: binary and 8-bit
 * messages, a message cut off halfway, more connections than it takes, commands no mail
 * system sends. Every case checks that the server keeps running and takes the next good
 * message, and that what it refused left Redis exactly as it was.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { returnPathFor, TEST_REF } from '../../src/delivery/return-path.ts';
import { returnedMailJobId } from '../../src/inbound/returned-mail-queue.ts';
import { DEV_SECRET } from '../../src/subscribers/signing-secrets.ts';
import { dumpKeys, type KeyDump } from '../helpers/dump-keys.ts';
import { DOMAIN, fixture, inboundEnv, RETURN_PATH, startInbound, type RunningInbound } from '../inbound/inbound-harness.ts';
import { connectSmtp, crlf, type SmtpClient } from '../inbound/smtp-client.ts';

const MAX_CONNECTIONS = 5;
const MAX_BYTES = 64 * 1024;
let running: RunningInbound;

beforeAll(async () => {
  running = await startInbound(inboundEnv({ INBOUND_MAX_CONNECTIONS: String(MAX_CONNECTIONS), INBOUND_MAX_BYTES: String(MAX_BYTES) }));
});
afterAll(() => running?.close());

/** Each case starts with no connection left open by the one before (they count against the cap). */
const opened: SmtpClient[] = [];
afterEach(async () => {
  for (const client of opened.splice(0)) client.destroy();
  await expect.poll(() => running.inbound.smtp!.connections.size).toBe(0);
});

async function open(): Promise<SmtpClient> {
  const client = await connectSmtp(running.url);
  opened.push(client);
  return client;
}

/**
 * Every key of the prefix once the worker has finished what earlier cases recorded, but
 * BullMQ's stalled-jobs check, which the worker rewrites on its own clock.
 */
async function snapshot(): Promise<Record<string, KeyDump>> {
  await expect
    .poll(async () => {
      const { waiting = 0, active = 0, delayed = 0 } = await running.app.returnedMailQueue().getJobCounts('waiting', 'active', 'delayed');
      return waiting + active + delayed;
    })
    .toBe(0);
  const dump = await dumpKeys(running.app.redis, running.prefix);
  return Object.fromEntries(Object.entries(dump).filter(([key]) => !key.endsWith(':stalled-check')));
}

async function hello(): Promise<SmtpClient> {
  const client = await open();
  expect(client.greeting.code).toBe(220);
  expect((await client.command('EHLO relay.example.net')).code).toBe(250);
  return client;
}

/** The server is alive and takes a good message, on a new connection. */
async function expectStillServing(): Promise<void> {
  const client = await hello();
  const dsn = Buffer.concat([fixture('dsn-hard-user-unknown.eml'), crlf(`X-Probe: ${randomBytes(6).toString('hex')}\n`)]);
  expect((await client.send({ from: '', to: [RETURN_PATH], raw: dsn })).data?.code).toBe(250);
  expect(await client.command('QUIT')).toMatchObject({ code: 221 });
}

async function expectProcessed(raw: Buffer): Promise<void> {
  const id = returnedMailJobId(raw, [RETURN_PATH]);
  const job = await running.app.returnedMailQueue().getJob(id);
  expect(Buffer.from(job!.data.raw, 'base64').equals(raw)).toBe(true);
  // The processor reads it without failing (it classifies what it cannot read as none).
  await expect.poll(() => running.app.returnedMailQueue().getJobState(id)).toBe('completed');
}

describe('inbound: messages no mail system should send', () => {
  it('records a binary body (NUL, bare CR and LF, bytes over 0x7F, dot lines) byte for byte, and processes it', async () => {
    const binary = Buffer.concat([
      crlf('From: <>\nSubject: binary\nContent-Type: application/octet-stream\n\n'),
      randomBytes(20_000),
      Buffer.from('\0\0\r\r\n\n.\r\n..\r\n.x\r\n\xff\xfe', 'latin1'),
      randomBytes(20_000),
      Buffer.from('\r\n'),
    ]);
    const client = await hello();
    expect((await client.send({ from: '', to: [RETURN_PATH], raw: binary })).data?.code).toBe(250);
    await expectProcessed(binary);
    await expectStillServing();
  });

  it('records 8-bit garbage in headers (no colon, bytes over 0x7F in names and values, a 30 KB line) and processes it', async () => {
    const garbage = Buffer.concat([
      Buffer.from('Fr\xf6m: \xff\xfe\xfd <\xe9@\xe9>\r\nSubject: =?utf-8?B?////?= \x80\x81\r\nno colon here\r\n\xc3\x28: \xa0\r\n', 'latin1'),
      Buffer.from(`X-Long: ${'a'.repeat(30_000)}\r\n`),
      Buffer.from('Content-Type: multipart/report; boundary=\r\n\r\n--\r\n--\r\n\r\n', 'latin1'),
    ]);
    const client = await hello();
    expect((await client.send({ from: '', to: [RETURN_PATH], raw: garbage })).data?.code).toBe(250);
    await expectProcessed(garbage);
    await expectStillServing();
  });

  it('records nothing of a message whose connection drops halfway through DATA', async () => {
    const before = await snapshot();
    const truncatedBefore = running.inbound.counts.truncated;
    const client = await hello();
    await client.command('MAIL FROM:<>');
    await client.command(`RCPT TO:<${RETURN_PATH}>`);
    expect((await client.command('DATA')).code).toBe(354);
    client.write(fixture('dsn-hard-user-unknown.eml').subarray(0, 700));
    client.destroy();
    await expect.poll(() => running.inbound.counts.truncated).toBe(truncatedBefore + 1);
    expect(await snapshot()).toEqual(before);
    await expectStillServing();
  });

  it('refuses a 5 MB message over the 64 KB limit with 552, keeping none of it', async () => {
    const before = await snapshot();
    const client = await hello();
    const huge = Buffer.concat([crlf('From: <>\nSubject: huge\n\n'), Buffer.alloc(5 * 1024 * 1024, 'y\r\n')]);
    expect((await client.send({ from: '', to: [RETURN_PATH], raw: huge })).data?.code).toBe(552);
    expect(await snapshot()).toEqual(before);
    await expectStillServing();
  });
});

describe('inbound: connections and commands', () => {
  it(`takes ${MAX_CONNECTIONS} connections at once and tells the rest 421 at once, then serves again`, async () => {
    const clients = await Promise.all(Array.from({ length: 40 }, () => open()));
    const codes = clients.map((c) => c.greeting.code);
    expect(codes.filter((code) => code === 220)).toHaveLength(MAX_CONNECTIONS);
    expect(codes.filter((code) => code === 421)).toHaveLength(40 - MAX_CONNECTIONS);
    for (const client of clients.filter((c) => c.greeting.code === 421)) await client.closed;
    for (const client of clients) client.destroy();
    await expect.poll(() => running.inbound.smtp!.connections.size).toBe(0);
    await expectStillServing();
  });

  it('answers commands no relay sends without falling over, and records nothing for them', async () => {
    const before = await snapshot();
    // A command line over 16 KB: the connection is cut.
    const long = await hello();
    expect(await long.command(`MAIL FROM:<${'a'.repeat(40_000)}@example.com>`)).toMatchObject({ code: 421 });
    await long.closed;
    const client = await hello();
    expect((await client.command(Buffer.from('MAIL FROM:<a\0b@example.com>'))).code).toBeGreaterThanOrEqual(500);
    expect((await client.command('RCPT TO:<x@example.com>')).code).toBe(503);
    expect((await client.command('DATA')).code).toBe(503);
    expect((await client.command(Buffer.from('\xff\xfe\x00\x01', 'latin1'))).code).toBeGreaterThanOrEqual(500);
    expect((await client.command('MAIL FROM:<>')).code).toBe(250);
    const rcpt = [];
    for (let i = 0; i < 60; i++) rcpt.push((await client.command(`RCPT TO:<${returnPathFor(DEV_SECRET, DOMAIN, TEST_REF, `sub${i}`)}>`)).code);
    // A bounce has one recipient; past 50 the server says too many.
    expect(rcpt.filter((code) => code === 250)).toHaveLength(50);
    expect(rcpt.filter((code) => code === 452)).toHaveLength(10);
    expect((await client.command('RSET')).code).toBe(250);
    const web = await open();
    expect((await web.command('GET / HTTP/1.1')).code).toBe(421);
    await web.closed;
    expect(await snapshot()).toEqual(before);
    await expectStillServing();
  });

  it('survives a client that talks before the greeting, and one that connects and says nothing', async () => {
    const early = connect({ host: '127.0.0.1', port: Number(new URL(running.url).port) });
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      early.on('connect', () => early.write('EHLO too.early.example\r\n'));
      early.on('data', (chunk: Buffer) => (text += chunk.toString()));
      early.on('close', () => resolve(text));
      early.on('error', () => {});
    });
    expect(answer).toMatch(/^421 /m);
    const silent = await open();
    expect(silent.greeting.code).toBe(220);
    await expectStillServing();
  });
});
