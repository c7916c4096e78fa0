/**
 * Reads a mailbox over IMAP (BOUNCE_IMAP_URL), for those who cannot run an MX: every message
 * in it is handed to `record` (the returned-mail queue, exactly as the SMTP path does) and only
 * once that resolved is it flagged `\Seen` and `$NewsletterProcessed`, so a crash in between
 * reads it again, which is harmless: the queue's job id is the message's hash.
 *
 * Why flag rather than move to a "Processed" folder: a flag is one STORE on any server, needs
 * no folder to exist or be created and no MOVE extension, and leaves the mail where the
 * operator looks for it (an unmatched bounce is theirs to read). Our own keyword, not `\Seen`
 * alone, says what is done, so a person opening the mailbox in a mail client does not make us
 * skip what they read; on a server that allows no keywords, `\Seen` is all there is.
 *
 * One connection: IDLE while waiting when the server offers it, otherwise a search every
 * `intervalMs`; reconnect with a growing delay when the connection drops; stop between
 * messages. A refused login or a missing mailbox ends the poller (`closed` rejects):
 * retrying a wrong password only gets the account locked.
 */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { NewsletterError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { readImapUrl, type ImapMailboxAddress } from './imap-url.ts';
import { mailboxEnvelope } from './mailbox-envelope.ts';

export const PROCESSED_KEYWORD = '$NewsletterProcessed';
/** Also set on a message over `maxBytes`: flagged, never recorded, left for the operator. */
export const TOO_LARGE_KEYWORD = '$NewsletterTooLarge';

/** What the poller hands on for each message: recordReturnedMail's `mail`. */
export interface MailboxMessage {
  raw: Buffer;
  mailFrom: string;
  rcptTo: string[];
  via: 'imap';
}

/** The part of ImapFlow the poller uses. */
export type ImapClient = Pick<
  ImapFlow,
  'connect' | 'logout' | 'close' | 'getMailboxLock' | 'fetchAll' | 'fetchOne' | 'messageFlagsAdd' | 'idle' | 'on' | 'capabilities' | 'mailbox' | 'usable'
>;

export interface ImapPollerOptions {
  /** BOUNCE_IMAP_URL. */
  url: string;
  /** Resolves once the message is stored durably (recordReturnedMail); only then is it flagged. */
  record: (mail: MailboxMessage) => Promise<unknown>;
  log: Logger;
  /** How often the mailbox is searched when no IDLE notice came; the only way on a server without IDLE. Default 60 s. */
  intervalMs?: number;
  /** INBOUND_MAX_BYTES: a larger message is not recorded, as SMTP would refuse it. Default 10 MiB. */
  maxBytes?: number;
  /** The delay before the first reconnection, doubled up to `maxMs`. Default 1 s to 60 s. */
  reconnect?: { minMs: number; maxMs: number };
  /** Makes the IMAP client of one connection; default ImapFlow. */
  createClient?: (options: ImapFlowOptions) => ImapClient;
}

export interface ImapPoller {
  /** Resolves once the mailbox was opened and read through once (or the poller stopped first); rejects as `closed` does. */
  readonly ready: Promise<void>;
  /** Resolves after stop(); rejects with CONFIG_INVALID (field BOUNCE_IMAP_URL) when the login was refused or the mailbox does not exist. */
  readonly closed: Promise<void>;
  /** Finishes the message in hand, logs out, and resolves once the connection is closed. */
  stop(): Promise<void>;
}

const LOGOUT_TIMEOUT_MS = 5_000;
/** One FETCH brings at most this many messages, or this many bytes (one larger message comes alone). */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 4 * 1024 * 1024;

/** UIDs in order, cut into batches by count and size. */
function batches(messages: readonly { uid: number; size?: number }[]): number[][] {
  const result: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const { uid, size = 0 } of messages) {
    if (current.length > 0 && (current.length === BATCH_MESSAGES || bytes + size > BATCH_BYTES)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(uid);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

export function startImapPoller(options: ImapPollerOptions): ImapPoller {
  const address = readImapUrl(options.url);
  const { log, record } = options;
  const intervalMs = options.intervalMs ?? 60_000;
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const reconnect = options.reconnect ?? { minMs: 1_000, maxMs: 60_000 };
  const createClient = options.createClient ?? ((clientOptions: ImapFlowOptions) => new ImapFlow(clientOptions));

  let stopping = false;
  /** Wakes whatever the poller waits for (a reconnection delay, new mail) when stop() is called. */
  let wake = () => {};
  let connecting: ImapClient | undefined;
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** One connection, from login to logout: read what is there, then wait for more, until it drops or we stop. */
  async function session(onRead: () => void): Promise<void> {
    const client = createClient({
      host: address.host,
      port: address.port,
      secure: address.secure,
      auth: { user: address.user, pass: address.pass },
      logger: false,
      disableAutoIdle: true,
      maxIdleTime: 5 * 60_000,
    });
    // New mail can be announced while we read (with a command's reply), not only while we wait.
    const heard: { newMail: boolean; error?: Error } = { newMail: false };
    let notify = () => {};
    client.on('error', (error: Error) => (heard.error = error));
    client.on('close', () => notify());
    client.on('exists', () => {
      heard.newMail = true;
      notify();
    });
    try {
      connecting = client;
      await client.connect();
      const lock = await client.getMailboxLock(address.mailbox);
      connecting = undefined;
      try {
        const permanent = client.mailbox ? client.mailbox.permanentFlags : undefined;
        const keywords = !permanent || permanent.has('\\*') || permanent.has(PROCESSED_KEYWORD);
        const idle = client.capabilities.has('IDLE');
        log.info({ idle, keywords, mailbox: address.mailbox }, `reading the bounce mailbox ${address.masked}`);
        while (!stopping) {
          heard.newMail = false;
          const recorded = await readNewMessages(client, keywords);
          if (recorded > 0) log.info({ recorded }, 'returned mail recorded from the bounce mailbox');
          onRead();
          if (stopping) break;
          if (!client.usable) throw heard.error ?? new Error('the IMAP server closed the connection');
          if (heard.newMail) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, intervalMs);
            notify = wake = () => {
              clearTimeout(timer);
              resolve();
            };
            if (idle) client.idle().catch(() => {});
          });
          if (!client.usable && !stopping) throw heard.error ?? new Error('the IMAP server closed the connection');
        }
      } finally {
        if (client.usable) lock.release();
      }
    } finally {
      connecting = undefined;
      await closeClient(client);
    }
  }

  /**
   * Records and flags every message not flagged yet, oldest first, a batch at a time (one FETCH
   * and one STORE for up to BATCH_MESSAGES / BATCH_BYTES); says how many it recorded.
   */
  async function readNewMessages(client: ImapClient, keywords: boolean): Promise<number> {
    const pending = await client.fetchAll(keywords ? { unKeyword: PROCESSED_KEYWORD } : { seen: false }, { uid: true, size: true }, { uid: true });
    const done = keywords ? ['\\Seen', PROCESSED_KEYWORD] : ['\\Seen'];
    const tooLarge = pending.filter((message) => (message.size ?? 0) > maxBytes).map((message) => message.uid);
    if (tooLarge.length > 0) {
      await client.messageFlagsAdd(tooLarge.join(','), keywords ? [...done, TOO_LARGE_KEYWORD] : done, { uid: true });
      log.warn({ uids: tooLarge, maxBytes }, 'messages in the bounce mailbox over INBOUND_MAX_BYTES: flagged, not recorded');
    }
    let recorded = 0;
    for (const batch of batches(pending.filter((message) => (message.size ?? 0) <= maxBytes))) {
      if (stopping) break;
      // A message deleted by someone else since the search is simply not in the answer.
      const messages = await client.fetchAll(batch.join(','), { uid: true, source: true }, { uid: true });
      const stored: number[] = [];
      try {
        for (const { uid, source } of messages) {
          if (stopping) break;
          if (!source) continue;
          await record({ raw: source, ...mailboxEnvelope(source), via: 'imap' });
          stored.push(uid);
        }
      } finally {
        // What was recorded before a failure is flagged all the same: reading it again would be harmless, but needless.
        if (stored.length > 0 && client.usable) await client.messageFlagsAdd(stored.join(','), done, { uid: true });
        recorded += stored.length;
      }
    }
    return recorded;
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        await session(() => {
          failures = 0;
          markReady();
        });
      } catch (error) {
        const permanent = permanentError(error, address);
        if (permanent) {
          log.error({ err: permanent }, permanent.message);
          throw permanent;
        }
        if (stopping) break;
        const delay = Math.min(reconnect.maxMs, reconnect.minMs * 2 ** failures);
        failures++;
        log.warn({ err: error, retryInMs: delay }, `reading the bounce mailbox ${address.masked} stopped; trying again in ${delay} ms`);
        await sleep(delay);
      }
    }
  }

  const closed = run();
  // Nobody need listen: the failure is logged, and ready/closed are there for the process to act on.
  closed.catch(() => {});
  const readyOrFailed = Promise.race([ready, closed]);
  readyOrFailed.catch(() => {});

  return {
    ready: readyOrFailed,
    closed,
    async stop() {
      stopping = true;
      wake();
      connecting?.close();
      await closed.catch(() => {});
    },
  };
}

async function closeClient(client: ImapClient): Promise<void> {
  if (client.usable) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([client.logout(), new Promise((resolve) => (timer = setTimeout(resolve, LOGOUT_TIMEOUT_MS)))]).catch(() => {});
    clearTimeout(timer);
  }
  client.close();
}

/** What no reconnection can fix, as the operator's error; undefined for the rest. */
function permanentError(error: unknown, address: ImapMailboxAddress): NewsletterError | undefined {
  const failure = error as { authenticationFailed?: boolean; serverResponseCode?: string; responseText?: string; mailboxMissing?: boolean };
  // UNAVAILABLE (RFC 5530): the server's password database is down, not the password wrong.
  if (failure.authenticationFailed && failure.serverResponseCode !== 'UNAVAILABLE') {
    const said = failure.responseText ? ` (it said: ${failure.responseText})` : '';
    return new NewsletterError(
      'CONFIG_INVALID',
      `the IMAP server refused the login of ${JSON.stringify(address.user)}${said}; check the user name and password in ${address.masked}`,
      {
        field: 'BOUNCE_IMAP_URL',
        cause: error,
      },
    );
  }
  if (failure.mailboxMissing) {
    return new NewsletterError('CONFIG_INVALID', `the IMAP server has no mailbox ${JSON.stringify(address.mailbox)}: ${address.masked}`, {
      field: 'BOUNCE_IMAP_URL',
      cause: error,
    });
  }
  return undefined;
}
