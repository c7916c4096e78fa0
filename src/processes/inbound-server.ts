/**
 * The inbound process (`newsletter inbound`): an SMTP server that takes what comes back by
 * mail for BOUNCE_DOMAIN (bounces, complaints, mailto unsubscribes; inbound-smtp-server.ts),
 * other sources of the same (BOUNCE_IMAP_URL's mailbox), and a BullMQ worker on the
 * returned-mail queue that classifies and applies each message. Whatever comes in is a job in
 * Redis (inbound/returned-mail-queue.ts) before its sender is told it arrived, so a crash
 * loses nothing. buildInboundServer wires it from an App (the tests build it the same way);
 * runInboundServer is the whole process, until SIGTERM/SIGINT.
 *
 * stop() is the graceful half of shutdown: no new connections (idle ones get 421), the
 * messages in DATA finish and get their reply, the other sources stop, the worker finishes
 * its jobs; the App then closes Redis.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { Worker } from 'bullmq';
import { createApp, type App } from '../app.ts';
import type { Config } from '../config.ts';
import { deliveryQueuePrefix } from '../delivery/delivery-queue.ts';
import { NewsletterError } from '../errors.ts';
import { createReturnedMailProcessor, type ReturnedMailOutcome } from '../inbound/process-returned-mail.ts';
import { startImapPoller, type ImapPoller } from '../inbound/imap-poller.ts';
import { recordReturnedMail, RETURNED_MAIL_QUEUE, type ReturnedMail } from '../inbound/returned-mail-queue.ts';
import type { ReturnedMailSource } from '../inbound/returned-mail-source.ts';
import { createLogger, type Logger } from '../logger.ts';
import { returnedMailDeps } from '../operations/returned-mail-operations.ts';
import { signingSecrets } from '../subscribers/signing-secrets.ts';
import { createInboundSmtpServer, type InboundSmtpServer, type SmtpCounts } from './inbound-smtp-server.ts';
import { runUntilSignal } from './until-signal.ts';

/** Returned messages processed at once: each is a millisecond or two of parsing and a few Redis writes. */
const WORKER_CONCURRENCY = 4;

export interface InboundServerOptions {
  /** Messages received, refused and processed; none without. */
  log?: Logger;
  /** Other ways mail comes in (BOUNCE_IMAP_URL's mailbox): started by start(), stopped after the SMTP server. */
  extraSources?: readonly ReturnedMailSource[];
  /** Returned messages processed at once (default 4). */
  concurrency?: number;
  /** Silence after which an SMTP client is cut (default 2 minutes). */
  socketTimeoutMs?: number;
  /** How long stop() waits for messages still streaming in (default 30 s). */
  closeTimeoutMs?: number;
  now?: () => Date;
}

/** What this process has seen since it started: the SMTP side's counts, and the worker's. */
export interface InboundCounts extends SmtpCounts {
  /** Returned-mail jobs the worker finished, and attempts that failed (retried with backoff). */
  processed: number;
  processFailed: number;
}

export interface InboundServer {
  /** Undefined without BOUNCE_DOMAIN (a process that reads BOUNCE_IMAP_URL only). */
  readonly smtp: InboundSmtpServer['server'] | undefined;
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

/** The inbound server for this App, its worker already running; start() it. Closing the App stops it first. */
export async function buildInboundServer(app: App, options: InboundServerOptions = {}): Promise<InboundServer> {
  const { config } = app;
  const { bounceDomain, tls } = inboundSettings(config);
  const secrets = signingSecrets(config);
  const { log, extraSources = [] } = options;
  const now = options.now ?? (() => new Date());

  // Created before onClose below, so that the App closes them after this server has stopped.
  const queue = app.returnedMailQueue();
  const worker = new Worker<ReturnedMail, ReturnedMailOutcome>(RETURNED_MAIL_QUEUE, createReturnedMailProcessor({ ...returnedMailDeps(app, log), now }), {
    connection: app.connection('blocking'),
    prefix: deliveryQueuePrefix(config.redis.prefix),
    concurrency: options.concurrency ?? WORKER_CONCURRENCY,
    // A message whose inbound server died mid-processing comes back after this, as a delivery batch does.
    lockDuration: config.sending.lockMs,
    stalledInterval: config.sending.lockMs,
  });
  const workerCounts = { processed: 0, processFailed: 0 };
  // A Redis blip must not crash the process; a job's own failure is retried with backoff (RETURNED_MAIL_JOB_OPTIONS).
  worker.on('error', (error) => log?.warn({ err: error }, 'returned-mail worker error'));
  worker.on('completed', () => (workerCounts.processed += 1));
  worker.on('failed', (job, error) => {
    workerCounts.processFailed += 1;
    log?.error({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: error }, 'returned mail not processed');
  });

  const smtp = bounceDomain
    ? createInboundSmtpServer({
        bounceDomain,
        secrets,
        queue,
        maxBytes: config.inbound.maxBytes,
        maxConnections: config.inbound.maxConnections,
        tls,
        now,
        log,
        socketTimeoutMs: options.socketTimeoutMs,
        closeTimeoutMs: options.closeTimeoutMs,
      })
    : undefined;
  const noSmtp: SmtpCounts = { connections: 0, recipientsRefused: 0, recorded: 0, tooBig: 0, notRecorded: 0, truncated: 0 };
  const counts = (): InboundCounts => ({ ...(smtp?.counts ?? noSmtp), ...workerCounts });

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await smtp?.close();
      for (const source of extraSources) await source.stop();
      await worker.close();
      log?.info(counts(), 'inbound closed');
    })());
  app.onClose(stop);

  return {
    smtp: smtp?.server,
    worker,
    get counts() {
      return counts();
    },
    async start({ port, host }) {
      const url = await smtp?.listen(port, host);
      for (const source of extraSources) await source.start();
      await worker.waitUntilReady();
      return url;
    },
    stop,
  };
}

/**
 * The mailboxes read besides SMTP: BOUNCE_IMAP_URL's, through the IMAP poller, recording each
 * message in the returned-mail queue before flagging it read. A login the server refuses at
 * start fails the process; refused later (the password changed), the process stops, since the
 * poller does not retry a refused login (providers lock accounts that do).
 */
function mailboxSources(app: App, log: Logger): ReturnedMailSource[] {
  const { imapUrl } = app.config.bounces;
  if (!imapUrl) return [];
  let poller: ImapPoller | undefined;
  return [
    {
      name: 'imap',
      async start() {
        poller = startImapPoller({
          url: imapUrl,
          record: async (mail) => void (await recordReturnedMail(app.returnedMailQueue(), mail, new Date())),
          log,
          maxBytes: app.config.inbound.maxBytes,
        });
        await Promise.race([poller.ready, poller.closed]);
        poller.closed.catch((error: unknown) => {
          log.error({ err: error }, 'the bounce mailbox refused us: stopping');
          process.kill(process.pid, 'SIGTERM');
        });
      },
      async stop() {
        await poller?.stop();
      },
    },
  ];
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
      const inbound = await buildInboundServer(app, { log, extraSources: mailboxSources(app, log) });
      const url = await inbound.start({ port, host });
      if (url) log.info({ maxBytes: config.inbound.maxBytes, starttls: Boolean(config.inbound.tls) }, `inbound listening at ${url}`);
      else log.info('inbound ready: no BOUNCE_DOMAIN, so no SMTP server; processing returned mail from the other sources only');
    },
    stop: () => app.close(),
  });
}
