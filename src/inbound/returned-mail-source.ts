/**
 * A way returned mail comes in besides SMTP: BOUNCE_IMAP_URL's mailbox, for those who cannot
 * run an MX. `newsletter inbound` starts each one with its SMTP server and stops it before
 * the returned-mail worker. A source records every message with recordReturnedMail
 * (returned-mail-queue.ts, `via: 'imap'`) before it marks it read in its mailbox, exactly as
 * the SMTP side answers 250 only once the message is recorded.
 */
export interface ReturnedMailSource {
  /** Names it in log lines, e.g. `imap`. */
  readonly name: string;
  /** Resolves once it is reading; a failure stops the process with the error. */
  start(): Promise<void>;
  /** Reads nothing new, finishes recording what it has in hand. Idempotent. */
  stop(): Promise<void>;
}
