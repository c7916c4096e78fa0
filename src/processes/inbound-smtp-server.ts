/**
 * The SMTP half of `newsletter inbound` (smtp-server): takes mail for BOUNCE_DOMAIN's return
 * paths and unsubscribe mailbox only (refused at RCPT otherwise: it never relays), up to
 * INBOUND_MAX_BYTES (552 past it) and INBOUND_MAX_CONNECTIONS (421 past it), with no AUTH and
 * STARTTLS only with a certificate. It answers 250 to the end of a message only once the
 * message is a job in Redis, 451 when Redis refused. Built by inbound-server.ts.
 */
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { Queue } from 'bullmq';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { NewsletterError } from '../errors.ts';
import { acceptRecipient } from '../inbound/accept-recipient.ts';
import { INBOUND_REPLIES, type InboundReply } from '../inbound/inbound-replies.ts';
import { readMessageData } from '../inbound/read-message-data.ts';
import { recordReturnedMail, type ReturnedMail } from '../inbound/returned-mail-queue.ts';
import type { Logger } from '../logger.ts';
import type { SigningSecrets } from '../subscribers/tokens.ts';

/**
 * RFC 5321 asks a server to wait 5 minutes for a command; relays talk within seconds, and a
 * slot held by a silent client is one a bounce cannot use (INBOUND_MAX_CONNECTIONS).
 */
const SOCKET_TIMEOUT_MS = 120_000;
/** How long close() lets a message still streaming in finish before it is cut with 421. */
const CLOSE_TIMEOUT_MS = 30_000;
/** A record that has not landed by then is answered 451; if it lands later, the relay's retry is the same job. */
const RECORD_TIMEOUT_MS = 30_000;
/** A bounce has one recipient; a message for dozens is not one of ours. */
const MAX_RECIPIENTS = 50;

/** What the SMTP side has seen since it started. */
export interface SmtpCounts {
  connections: number;
  /** RCPT TO refused: another domain, or no such mailbox on ours. */
  recipientsRefused: number;
  /** Messages answered 250: each is a job in Redis. */
  recorded: number;
  /** Answered 552. */
  tooBig: number;
  /** Answered 451: Redis refused or did not answer in time. */
  notRecorded: number;
  /** The connection dropped before the end of the message: nothing recorded. */
  truncated: number;
}

export interface InboundSmtpDeps {
  bounceDomain: string;
  secrets: SigningSecrets;
  queue: Queue<ReturnedMail>;
  maxBytes: number;
  maxConnections: number;
  tls: { key: Buffer; cert: Buffer } | undefined;
  now: () => Date;
  log?: Logger;
  socketTimeoutMs?: number;
  closeTimeoutMs?: number;
}

export interface InboundSmtpServer {
  readonly server: SMTPServer;
  readonly counts: Readonly<SmtpCounts>;
  /** Resolves with smtp://host:port once listening; CONFIG_INVALID naming INBOUND_PORT when it cannot. */
  listen(port: number, host: string): Promise<string>;
  /** No new connections; idle ones get 421; a message in DATA finishes, gets its reply, then its connection goes. */
  close(): Promise<void>;
}

function smtpError(reply: InboundReply): Error & { responseCode: number } {
  return Object.assign(new Error(reply.text), { responseCode: reply.code });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not recorded within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function smtpUrl(host: string, port: number): string {
  return `smtp://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function createInboundSmtpServer(deps: InboundSmtpDeps): InboundSmtpServer {
  const { bounceDomain, secrets, queue, maxBytes, tls, now, log } = deps;
  const counts: SmtpCounts = { connections: 0, recipientsRefused: 0, recorded: 0, tooBig: 0, notRecorded: 0, truncated: 0 };
  let closing = false;
  /** Sessions whose message is streaming in or being recorded: close() lets them finish. */
  const inData = new Set<string>();

  /** One message's DATA to its reply: the bytes, then the job, then 250; or why not. */
  const receive = async (stream: Readable, session: SMTPServerSession): Promise<[Error | null, string?]> => {
    let data;
    try {
      data = await readMessageData(stream, maxBytes);
    } catch (error) {
      counts.truncated += 1;
      log?.info({ session: session.id, remote: session.remoteAddress }, 'connection dropped before the end of the message: nothing recorded');
      return [error as Error];
    }
    if ('tooBig' in data) {
      counts.tooBig += 1;
      log?.info({ session: session.id, remote: session.remoteAddress, bytes: data.bytes, maxBytes }, 'message too big: refused');
      return [smtpError(INBOUND_REPLIES.tooBig(maxBytes))];
    }
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const rcptTo = session.envelope.rcptTo.map((recipient) => recipient.address);
    try {
      const jobId = await withTimeout(recordReturnedMail(queue, { raw: data.raw, mailFrom, rcptTo, via: 'smtp' }, now()), RECORD_TIMEOUT_MS);
      counts.recorded += 1;
      log?.info({ session: session.id, jobId, bytes: data.raw.length, from: mailFrom, to: rcptTo.join(', ') }, 'returned mail recorded');
      return [null, INBOUND_REPLIES.recorded(jobId.slice(0, 16))];
    } catch (error) {
      counts.notRecorded += 1;
      log?.warn({ session: session.id, err: error }, 'returned mail not recorded (Redis): answered 451, the relay will try again');
      return [smtpError(INBOUND_REPLIES.notRecorded)];
    }
  };

  const server: SMTPServer = new SMTPServer({
    banner: 'newsletter inbound',
    logger: false,
    // No AUTH: mail for our own domain needs none, and this server relays nothing.
    authOptional: true,
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    size: maxBytes,
    maxClients: deps.maxConnections,
    maxRecipients: MAX_RECIPIENTS,
    socketTimeout: deps.socketTimeoutMs ?? SOCKET_TIMEOUT_MS,
    closeTimeout: deps.closeTimeoutMs ?? CLOSE_TIMEOUT_MS,
    disableReverseLookup: true,
    onConnect(session, callback) {
      counts.connections += 1;
      log?.debug({ session: session.id, remote: session.remoteAddress }, 'smtp connection');
      callback();
    },
    onRcptTo(address, session, callback) {
      const verdict = acceptRecipient(address.address, { bounceDomain, secrets });
      if (verdict.ok) return callback();
      counts.recipientsRefused += 1;
      log?.info({ session: session.id, remote: session.remoteAddress, to: address.address, reply: verdict.reply.code }, 'recipient refused');
      callback(smtpError(verdict.reply));
    },
    onData(stream, session, callback) {
      inData.add(session.id);
      void receive(stream, session)
        .then(([error, message]) => {
          inData.delete(session.id);
          callback(error, message);
          // While closing, a connection goes once its message has its reply.
          if (closing) for (const connection of server.connections) if (connection.session.id === session.id) setImmediate(() => connection.close());
        })
        // Answering a client that is already gone must not take the process with it.
        .catch((error: unknown) => log?.warn({ session: session.id, err: error }, 'could not answer the end of a message'));
    },
  });
  // Connection errors (resets, timeouts, TLS garbage) are the client's; they must never crash the process.
  server.on('error', (error) => log?.debug({ err: error }, 'smtp connection error'));

  return {
    server,
    counts,
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(port, host, () => {
          server.server.off('error', reject);
          resolve();
        });
      }).catch((cause: Error) => {
        throw new NewsletterError('CONFIG_INVALID', `cannot listen on ${host}:${port}: ${cause.message}`, { field: 'INBOUND_PORT', cause });
      });
      return smtpUrl(host, (server.server.address() as AddressInfo).port);
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        const { code, text } = INBOUND_REPLIES.shuttingDown;
        for (const connection of [...server.connections]) if (!inData.has(connection.session.id)) connection.send(code, text);
      }),
  };
}
