/**
 * `newsletter inbound`'s SMTP side over real sockets, against the shared Redis: what it takes
 * (our return paths, the unsubscribe mailbox), what it refuses and where (RCPT for other
 * recipients, 552 past the size limit), STARTTLS, one job per message, and shutdown in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { returnedMailJobId } from '../../src/inbound/returned-mail-queue.ts';
import { connectSmtp, crlf, dotStuff } from './smtp-client.ts';
import { DOMAIN, fixture, inboundEnv, RETURN_PATH, selfSignedCertificate, startInbound, type RunningInbound } from './inbound-harness.ts';

let running: RunningInbound | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await running?.close();
  running = undefined;
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const unsubscribeMail = crlf(
  'From: Ann <ann@example.net>\nTo: unsubscribe@bounces.news.example.org\nSubject: unsubscribe-AbCdEfGhIjKlMnOp.signature\nMessage-ID: <u1@example.net>\n\nunsubscribe\n',
);

describe('newsletter inbound: what it takes', () => {
  it('takes a DSN for one of our return paths, answers 250 once it is a job holding the exact bytes, and the worker processes it', async () => {
    running = await startInbound();
    const dsn = fixture('dsn-hard-user-unknown.eml');
    const client = await connectSmtp(running.url);
    expect(client.greeting.code).toBe(220);
    expect((await client.command('EHLO relay.example.net')).code).toBe(250);
    const { mail, rcpt, data } = await client.send({ from: '', to: [RETURN_PATH], raw: dsn });
    expect([mail.code, rcpt[0]!.code, data?.code]).toEqual([250, 250, 250]);
    const jobId = returnedMailJobId(dsn, [RETURN_PATH]);
    expect(data!.text).toBe(`2.0.0 recorded as ${jobId.slice(0, 16)}`);

    const [job, ...others] = await running.jobs();
    expect(others).toEqual([]);
    expect(job!.id).toBe(jobId);
    expect(Buffer.from(job!.data.raw, 'base64').equals(dsn)).toBe(true);
    expect(job!.data).toMatchObject({ mailFrom: '', rcptTo: [RETURN_PATH], via: 'smtp' });
    await expect.poll(() => running!.app.returnedMailQueue().getJobState(jobId)).toBe('completed');
    expect((await running.app.returnedMailQueue().getJob(jobId))!.returnvalue.kind).toBe('hard');
    expect(running.inbound.counts).toMatchObject({ recorded: 1, processed: 1, recipientsRefused: 0 });
  });

  it('takes mail for the unsubscribe mailbox, and the domain in any case', async () => {
    running = await startInbound();
    const client = await connectSmtp(running.url);
    await client.command('EHLO mail.example.net');
    const to = 'UNSUBSCRIBE@Bounces.News.Example.ORG';
    const { rcpt, data } = await client.send({ from: 'ann@example.net', to: [to], raw: unsubscribeMail });
    expect([rcpt[0]!.code, data?.code]).toEqual([250, 250]);
    const [job] = await running.jobs();
    expect(job!.data).toMatchObject({ mailFrom: 'ann@example.net', rcptTo: [to] });
    // A return path in capitals, as some mail systems write local parts, is still ours.
    expect((await client.send({ from: '', to: [RETURN_PATH.toUpperCase()], raw: fixture('dsn-soft-mailbox-full.eml') })).data?.code).toBe(250);
  });

  it('refuses every other recipient at RCPT, so it never relays and records nothing for them', async () => {
    running = await startInbound();
    const client = await connectSmtp(running.url);
    await client.command('EHLO spammer.example.com');
    const refused = [
      ['victim@example.com', '5.7.1 relaying denied'],
      [`someone@sub.${DOMAIN}`, '5.7.1 relaying denied'],
      [`someone@${DOMAIN}.evil.example`, '5.7.1 relaying denied'],
      [`postmaster@${DOMAIN}`, '5.1.1 no such user'],
      [`bounce-test-aaaa-tooshort@${DOMAIN}`, '5.1.1 no such user'],
    ] as const;
    expect((await client.command('MAIL FROM:<spammer@example.com>')).code).toBe(250);
    for (const [address, reason] of refused) {
      const reply = await client.command(`RCPT TO:<${address}>`);
      expect(reply.code, address).toBe(550);
      expect(reply.text, address).toContain(reason);
    }
    expect((await client.command('DATA')).code).toBe(503);
    expect(await client.command('RSET')).toMatchObject({ code: 250 });

    // Beside a good recipient, a refused one is left out of what is recorded.
    const { rcpt, data } = await client.send({ from: '', to: ['victim@example.com', RETURN_PATH], raw: fixture('dsn-delayed.eml') });
    expect(rcpt.map((r) => r.code)).toEqual([550, 250]);
    expect(data?.code).toBe(250);
    const jobs = await running.jobs();
    expect(jobs.map((job) => job.data.rcptTo)).toEqual([[RETURN_PATH]]);
    expect(running.inbound.counts.recipientsRefused).toBe(refused.length + 1);
  });

  it('takes a return path whose signature is wrong (the processor records it as unmatched), but not one of another shape', async () => {
    running = await startInbound();
    const forged = RETURN_PATH.replace(/-([a-z2-7]{10})@/, '-aaaaaaaaaa@');
    expect(forged).not.toBe(RETURN_PATH);
    const client = await connectSmtp(running.url);
    await client.command('HELO relay.example.net');
    expect(await client.command('MAIL FROM:<>')).toMatchObject({ code: 250 });
    expect(await client.command(`RCPT TO:<${forged}>`)).toMatchObject({ code: 250 });
  });
});

describe('newsletter inbound: limits', () => {
  it('refuses a message over INBOUND_MAX_BYTES with 552 and records nothing; the connection carries on', async () => {
    running = await startInbound(inboundEnv({ INBOUND_MAX_BYTES: '65536' }));
    const client = await connectSmtp(running.url);
    const ehlo = await client.command('EHLO relay.example.net');
    expect(ehlo.text).toContain('SIZE 65536');
    const big = Buffer.concat([crlf('From: <>\nSubject: big\n\n'), Buffer.alloc(200_000, 'x\r\n')]);
    const { rcpt, data } = await client.send({ from: '', to: [RETURN_PATH], raw: big });
    expect(rcpt[0]!.code).toBe(250);
    expect(data).toMatchObject({ code: 552, text: '5.3.4 message too big: the limit is 65536 bytes' });
    // A relay that says the size up front is refused before it sends anything.
    expect((await client.command('MAIL FROM:<> SIZE=200000')).code).toBe(552);
    expect(await running.jobs()).toEqual([]);

    const { data: next } = await client.send({ from: '', to: [RETURN_PATH], raw: fixture('dsn-hard-user-unknown.eml') });
    expect(next?.code).toBe(250);
    expect(await running.jobs()).toHaveLength(1);
    expect(running.inbound.counts).toMatchObject({ tooBig: 1, recorded: 1 });
  });

  it('records the same message sent twice (a relay retrying) as one job; the same bytes to another recipient are another', async () => {
    running = await startInbound();
    const dsn = fixture('dsn-soft-mailbox-full.eml');
    for (let i = 0; i < 2; i++) {
      const client = await connectSmtp(running.url);
      await client.command('EHLO relay.example.net');
      expect((await client.send({ from: '', to: [RETURN_PATH], raw: dsn })).data?.code).toBe(250);
      expect((await client.command('QUIT')).code).toBe(221);
    }
    expect((await running.jobs()).map((job) => job.id)).toEqual([returnedMailJobId(dsn, [RETURN_PATH])]);
    const client = await connectSmtp(running.url);
    await client.command('EHLO relay.example.net');
    expect((await client.send({ from: '', to: [`unsubscribe@${DOMAIN}`], raw: dsn })).data?.code).toBe(250);
    expect(await running.jobs()).toHaveLength(2);
  });
});

describe('newsletter inbound: STARTTLS', () => {
  it('offers STARTTLS with the configured certificate and takes a message over it', async () => {
    const cert = selfSignedCertificate('inbound.test');
    cleanups.push(cert.remove);
    running = await startInbound(inboundEnv({ INBOUND_TLS_CERT: cert.certFile, INBOUND_TLS_KEY: cert.keyFile }));
    const client = await connectSmtp(running.url);
    expect((await client.command('EHLO relay.example.net')).text.split('\n')).toContain('STARTTLS');
    const secure = await client.startTls();
    expect(secure.encrypted).toBe(true);
    expect(secure.getPeerCertificate().subject.CN).toBe('inbound.test');
    const again = await client.command('EHLO relay.example.net');
    expect(again.text.split('\n')).not.toContain('STARTTLS');
    expect((await client.send({ from: '', to: [RETURN_PATH], raw: fixture('dsn-hard-user-unknown.eml') })).data?.code).toBe(250);
    expect(await running.jobs()).toHaveLength(1);
  });

  it('neither offers nor accepts STARTTLS without a certificate', async () => {
    running = await startInbound();
    const client = await connectSmtp(running.url);
    const ehlo = await client.command('EHLO relay.example.net');
    expect(ehlo.text.split('\n')).not.toContain('STARTTLS');
    expect((await client.command('STARTTLS')).code).toBe(500);
    expect((await client.command('AUTH PLAIN AGFubgBwYXNz')).code).toBe(500);
    expect((await client.send({ from: '', to: [RETURN_PATH], raw: fixture('dsn-hard-user-unknown.eml') })).data?.code).toBe(250);
  });
});

describe('newsletter inbound: shutdown', () => {
  it('stops in order: idle connections get 421, a message in DATA finishes with its 250, then no new connection is taken', async () => {
    running = await startInbound();
    const idle = await connectSmtp(running.url);
    await idle.command('EHLO idle.example.net');
    const busy = await connectSmtp(running.url);
    await busy.command('EHLO busy.example.net');
    await busy.command('MAIL FROM:<>');
    await busy.command(`RCPT TO:<${RETURN_PATH}>`);
    expect((await busy.command('DATA')).code).toBe(354);
    const stuffed = dotStuff(fixture('dsn-hard-user-unknown.eml'));
    busy.write(stuffed.subarray(0, 500));

    const stopped = running.inbound.stop();
    expect(await idle.reply()).toMatchObject({ code: 421, text: '4.3.2 shutting down: try again later' });
    await idle.closed;
    // The server no longer listens, while the message in DATA is still coming in.
    await expect(connectSmtp(running.url)).rejects.toThrow();
    busy.write(stuffed.subarray(500));
    expect((await busy.reply()).text).toMatch(/^2\.0\.0 recorded as /);
    await busy.closed;
    await stopped;
    expect(await running.jobs()).toHaveLength(1);
  });
});

describe('newsletter inbound: other sources (the BOUNCE_IMAP_URL hook)', () => {
  it('starts them with the server, and stops them after the SMTP server has closed and before the worker closes', async () => {
    const events: string[] = [];
    // Set once started; read by stop(), which runs after.
    const box: { inbound?: RunningInbound['inbound'] } = {};
    const source = {
      name: 'mailbox',
      async start() {
        events.push('start');
      },
      async stop() {
        events.push(`stop: smtp listening ${box.inbound?.smtp?.server.listening}, worker closing ${box.inbound?.worker.closing !== undefined}`);
      },
    };
    running = await startInbound(inboundEnv(), { extraSources: [source] });
    const inbound = (box.inbound = running.inbound);
    expect(events).toEqual(['start']);
    expect(inbound.smtp!.server.listening).toBe(true);
    await running.app.close();
    expect(events).toEqual(['start', 'stop: smtp listening false, worker closing false']);
    expect(inbound.worker.closing).toBeDefined();
  });

  it('runs without an SMTP server when only BOUNCE_IMAP_URL is set', async () => {
    const { BOUNCE_DOMAIN: _unset, ...env } = inboundEnv({ BOUNCE_IMAP_URL: 'imaps://user:pass@imap.example.org/INBOX' });
    const started: string[] = [];
    running = await startInbound(env as Record<string, string>, {
      extraSources: [{ name: 'mailbox', start: async () => void started.push('mailbox'), stop: async () => {} }],
    });
    expect(running.url).toBe('');
    expect(running.inbound.smtp).toBeUndefined();
    expect(started).toEqual(['mailbox']);
    expect(running.inbound.worker.isRunning()).toBe(true);
  });
});
