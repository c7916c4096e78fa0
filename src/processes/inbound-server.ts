/**
 * The inbound process (`newsletter inbound`): an SMTP server that takes what comes back by
 * mail for BOUNCE_DOMAIN (bounces, complaints, mailto unsubscribes), and a BullMQ worker on
 * the returned-mail queue that classifies and applies each message. The SMTP side answers
 * 250 only once the message is a job in Redis (inbound/returned-mail-queue.ts), so a crash
 * after the 250 loses nothing, and a Redis that refuses gets 451: the relay tries again.
 * buildInboundServer wires both from an App (the tests build it the same way);
 * runInboundServer is the whole process, until SIGTERM/SIGINT.
 *
 * stop() is the graceful half of shutdown: no new connections (idle ones get 421), the
 * messages in DATA finish and get their reply, the other sources stop, the worker finishes
 * its jobs; the App then closes Redis.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { Worker } from 'bullmq';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { createApp, type App } from '../app.ts';
import type { Config } from '../config.ts';
import { deliveryQueuePrefix } from '../delivery/delivery-queue.ts';
import { NewsletterError } from '../errors.ts';
import { acceptRecipient } from '../inbound/accept-recipient.ts';
import { INBOUND_REPLIES, type InboundReply } from '../inbound/inbound-replies.ts';
import { createReturnedMailProcessor, type ReturnedMailOutcome } from '../inbound/process-returned-mail.ts';
import { readMessageData } from '../inbound/read-message-data.ts';
import { RETURNED_MAIL_QUEUE, recordReturnedMail, type ReturnedMail } from '../inbound/returned-mail-queue.ts';
import type { ReturnedMailSource } from '../inbound/returned-mail-source.ts';
import { createLogger, type Logger } from '../logger.ts';
import { signingSecrets } from '../subscribers/signing-secrets.ts';
import { runUntilSignal } from './until-signal.ts';

/**
 * RFC 5321 asks a server to wait 5 minutes for a command; relays talk within seconds, and a
 * slot held by a silent client is one a bounce cannot use (INBOUND_MAX_CONNECTIONS).
 */
const SOCKET_TIMEOUT_MS = 120_000;
/** How long stop() lets a message still streaming in finish before it is cut with 421. */
const CLOSE_TIMEOUT_MS = 30_000;
/** A record that has not landed by then is answered 451; if it lands later, the relay's retry is the same job. */
const RECORD_TIMEOUT_MS = 30_000;
/** A bounce has one recipient; a message for hundreds is not one of ours. */
const MAX_RECIPIENTS = 50;
/** Returned messages processed at once: each is a millisecond or two of parsing and a few Redis writes. */
const WORKER_CONCURRENCY = 4;

export interface InboundServerOptions {
  /** Messages received, refused and processed; none without. */
  log?: Logger;
  /** Other ways mail comes in (BOUNCE_IMAP_URL's mailbox): started by start(), stopped after the SMTP server. */
  extraSources?: readonly ReturnedMailSource[];
  /** Returned messages processed at once (default 4). */
  concurrency?: number;
  /** Silence after which a client is cut (default 2 minutes). */
  socketTimeoutMs?: number;
  /** How long stop() waits for messages still streaming in (default 30 s). */
  closeTimeoutMs?: number;
  now?: () => Date;
}

/** What this process has seen since it started. */
export interface InboundCounts {
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
  /** Returned-mail jobs the worker finished, and those that failed an attempt. */
  processed: number;
  processFailed: number;
}

export interface InboundServer {
  /** Undefined without BOUNCE_DOMAIN (a process that reads BOUNCE_IMAP_URL only). */
  readonly smtp: SMTPServer | undefined;
  readonly worker: Worker<ReturnedMail, ReturnedMailOutcome>;
  readonly counts: Readonly<InboundCounts>;
  /** Listens (port 0: any free port) and starts the other sources; resolves with smtp://host:port, or undefined without SMTP. */
  start(where: { port: number; host: string }): Promise<string | undefined>;
  /** Idempotent. */
  stop(): Promise<void>;
}

export interface InboundSettings {
  readonly bounceDomain: string | undefined;
  /** The PEM files' contents, for STARTTLS. */
  readonly tls: { readonly key: Buffer; readonly cert: Buffer } | undefined;
}

function readPem(file: string, field: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new NewsletterError('CONFIG_INVALID', `cannot read ${file}: ${(cause as Error).message}`, { field, cause });
  }
}

/**
 * What the inbound process needs from the config, checked before it connects anywhere:
 * something to receive (BOUNCE_DOMAIN, or BOUNCE_IMAP_URL alone), and STARTTLS's files
 * readable and a matching pair.
 */
export function inboundSettings(config: Config): InboundSettings {
  const { domain, imapUrl } = config.bounces;
  if (!domain && !imapUrl) {
    throw new NewsletterError(
      'CONFIG_INVALID',
      'set it to the domain whose MX points at this server (e.g. bounces.news.example.com), or set BOUNCE_IMAP_URL to read a mailbox instead: without either there is nothing to receive',
      { field: 'BOUNCE_DOMAIN' },
    );
  }
  const files = config.inbound.tls;
  if (!files) return { bounceDomain: domain, tls: undefined };
  const tls = { cert: readPem(files.certFile, 'INBOUND_TLS_CERT'), key: readPem(files.keyFile, 'INBOUND_TLS_KEY') };
  try {
    createSecureContext(tls);
  } catch (cause) {
    throw new NewsletterError('CONFIG_INVALID', `the certificate and key do not make a TLS context: ${(cause as Error).message}`, {
      field: 'INBOUND_TLS_CERT',
      cause,
    });
  }
  return { bounceDomain: domain, tls };
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

/** The inbound server for this App, its worker already running; start() it. Closing the App stops it first. */
export async function buildInboundServer(app: App, options: InboundServerOptions = {}): Promise<InboundServer> {
  const { config } = app;
  const { bounceDomain, tls } = inboundSettings(config);
  const secrets = signingSecrets(config);
  const { log, extraSources = [] } = options;
  const now = options.now ?? (() => new Date());
  const maxBytes = config.inbound.maxBytes;
  const counts: InboundCounts = { connections: 0, recipientsRefused: 0, recorded: 0, tooBig: 0, notRecorded: 0, truncated: 0, processed: 0, processFailed: 0 };

  // Created before onClose below, so that the App closes them after this server has stopped.
  const queue = app.returnedMailQueue();
  const worker = new Worker<ReturnedMail, ReturnedMailOutcome>(
    RETURNED_MAIL_QUEUE,
    createReturnedMailProcessor({
      campaigns: app.campaigns,
      subscribers: app.subscribers,
      secrets,
      bounceDomain,
      soft: { limit: config.bounces.softLimit, window: config.bounces.softWindow },
      now,
      log,
    }),
    { connection: app.connection('blocking'), prefix: deliveryQueuePrefix(config.redis.prefix), concurrency: options.concurrency ?? WORKER_CONCURRENCY },
  );
  // A Redis blip must not crash the process; a job's own failure is retried with backoff (RETURNED_MAIL_JOB_OPTIONS).
  worker.on('error', (error) => log?.warn({ err: error }, 'returned-mail worker error'));
  worker.on('completed', () => (counts.processed += 1));
  worker.on('failed', (job, error) => {
    counts.processFailed += 1;
    log?.error({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: error }, 'returned mail not processed');
  });

  let stopping = false;
  /** Sessions whose message is streaming in or being recorded: stop() lets them finish. */
  const inData = new Set<string>();

  const answerThenMaybeClose = (session: SMTPServerSession, answer: () => void) => {
    inData.delete(session.id);
    answer();
    // While stopping, a connection goes once its message has its reply.
    if (stopping && smtp) for (const connection of smtp.connections) if (connection.session.id === session.id) setImmediate(() => connection.close());
  };

  const smtp = bounceDomain
    ? new SMTPServer({
        banner: 'newsletter inbound',
        logger: false,
        // No AUTH: mail for our own domain needs none, and this server relays nothing.
        authOptional: true,
        disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
        ...(tls ? { key: tls.key, cert: tls.cert } : {}),
        size: maxBytes,
        maxClients: config.inbound.maxConnections,
        maxRecipients: MAX_RECIPIENTS,
        socketTimeout: options.socketTimeoutMs ?? SOCKET_TIMEOUT_MS,
        closeTimeout: options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS,
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
          const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          const rcptTo = session.envelope.rcptTo.map((recipient) => recipient.address);
          const record = async (): Promise<[Error | null, string?]> => {
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
          void record().then(([error, message]) => answerThenMaybeClose(session, () => callback(error, message)));
        },
      })
    : undefined;
  // Connection errors (resets, timeouts, TLS garbage) are the client's; they must never crash the process.
  smtp?.on('error', (error) => log?.debug({ err: error }, 'smtp connection error'));

  const closeSmtp = (server: SMTPServer) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      const { code, text } = INBOUND_REPLIES.shuttingDown;
      for (const connection of [...server.connections]) if (!inData.has(connection.session.id)) connection.send(code, text);
    });

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      if (smtp) await closeSmtp(smtp);
      for (const source of extraSources) await source.stop();
      await worker.close();
      log?.info({ ...counts }, 'inbound closed');
    })());
  app.onClose(stop);

  return {
    smtp,
    worker,
    counts,
    async start({ port, host }) {
      let url: string | undefined;
      if (smtp) {
        await new Promise<void>((resolve, reject) => {
          smtp.server.once('error', reject);
          smtp.listen(port, host, () => {
            smtp.server.off('error', reject);
            resolve();
          });
        }).catch((cause: Error) => {
          throw new NewsletterError('CONFIG_INVALID', `cannot listen on ${host}:${port}: ${cause.message}`, { field: 'INBOUND_PORT', cause });
        });
        url = smtpUrl(host, (smtp.server.address() as AddressInfo).port);
      }
      for (const source of extraSources) await source.start();
      await worker.waitUntilReady();
      return url;
    },
    stop,
  };
}

/**
 * The mailboxes read besides SMTP. BOUNCE_IMAP_URL's source (imapflow) goes here: a
 * ReturnedMailSource that records each message with recordReturnedMail(app.returnedMailQueue(), …, via 'imap').
 */
function mailboxSources(config: Config, log: Logger): ReturnedMailSource[] {
  if (config.bounces.imapUrl) log.warn('BOUNCE_IMAP_URL is set, but this version does not read the mailbox yet');
  return [];
}

/**
 * The whole process: refuses before connecting anywhere when there is nothing to receive, a
 * STARTTLS file is missing, or no secret checks return paths; listens until SIGTERM/SIGINT,
 * then stops in order and closes the App. Resolves once it has.
 */
export async function runInboundServer(
  config: Config,
  { port = config.inbound.port, host = config.inbound.host }: { port?: number; host?: string } = {},
): Promise<void> {
  inboundSettings(config);
  signingSecrets(config);
  const log = createLogger(config, { name: 'inbound' });
  const app = await createApp(config, { warn: (message) => log.warn(message) });
  await runUntilSignal({
    what: 'inbound',
    log,
    async start() {
      const inbound = await buildInboundServer(app, { log, extraSources: mailboxSources(config, log) });
      const url = await inbound.start({ port, host });
      if (url) log.info({ maxBytes: config.inbound.maxBytes, starttls: Boolean(config.inbound.tls) }, `inbound listening at ${url}`);
      else log.info('inbound ready: no BOUNCE_DOMAIN, so no SMTP server; processing returned mail from the other sources only');
    },
    stop: () => app.close(),
  });
}
