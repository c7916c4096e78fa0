/**
 * The words for what happens to one delivery, and how the ledger stores them. PURE. Every
 * other file (the Lua scripts, the ledger, the stores, the metrics, the CLI) uses these
 * names; the README's glossary (docs/architecture.md) explains them.
 *
 * One SMTP attempt is accepted (2xx), deferred (4xx, or no reply before the end of the
 * message: tried again later), rejected (5xx), or unknown (no reply after the end of the
 * message: it may have arrived, so it is never tried again). A recipient of a campaign ends
 * settled: accepted, failed (rejected, deferred on the last attempt, or outcome unknown) or
 * skipped (settled without sending). While deferred, the recipient is not settled.
 */

/** What the SMTP server made of one attempt. */
export type SmtpOutcome = 'accepted' | 'deferred' | 'rejected' | 'unknown';

export const SETTLED_OUTCOMES = ['accepted', 'failed', 'skipped'] as const;
/** Where a recipient ends in a campaign; never changes once written. */
export type SettledOutcome = (typeof SETTLED_OUTCOMES)[number];

/** What the ledger can hold for a recipient: settled, or deferred and waiting for another attempt. */
export type LedgerOutcome = SettledOutcome | 'deferred';

/**
 * The ledger's encoding: one letter, then `:detail` when there is one (the SMTP reply of a
 * failure, the reason of a skip), then for a failure its time after a U+001F separator (epoch
 * milliseconds, base 36). One letter keeps a million-recipient ledger small; the time goes at
 * the end so that the scripts' prefix checks (`f:outcome unknown`) read old and new entries
 * alike, and entries written before it decode with no time. The letters are stored data:
 * changing one breaks campaigns written before.
 */
export const LEDGER_CODES: Readonly<Record<LedgerOutcome, string>> = { accepted: 'a', failed: 'f', skipped: 's', deferred: 'r' };

const OUTCOME_OF_CODE = new Map(Object.entries(LEDGER_CODES).map(([outcome, code]) => [code, outcome as LedgerOutcome]));

export interface LedgerEntry {
  outcome: LedgerOutcome;
  /** The reply of a failure or deferral, the reason of a skip; '' for accepted. */
  detail: string;
  /** When a failure was recorded (kept for failures only: they are few, and people ask when). */
  at?: Date;
}

const TIME_SEPARATOR = '\u001f';

/** Details are one line and bounded: they come from SMTP servers. */
function cleanDetail(detail: string): string {
  return detail
    .replace(/[\r\n]+/g, ' ')
    .replaceAll(TIME_SEPARATOR, ' ')
    .slice(0, 500);
}

export function encodeLedgerEntry({ outcome, detail, at }: LedgerEntry): string {
  const clean = cleanDetail(detail);
  const time = outcome === 'failed' && at ? `${TIME_SEPARATOR}${at.getTime().toString(36)}` : '';
  return clean || time ? `${LEDGER_CODES[outcome]}:${clean}${time}` : LEDGER_CODES[outcome];
}

/** Undefined for a value this module did not write. */
export function decodeLedgerEntry(value: string): LedgerEntry | undefined {
  const outcome = OUTCOME_OF_CODE.get(value.slice(0, 1));
  if (!outcome || (value.length > 1 && value[1] !== ':')) return undefined;
  const rest = value.slice(2);
  const cut = rest.lastIndexOf(TIME_SEPARATOR);
  if (cut === -1) return { outcome, detail: rest };
  const ms = parseInt(rest.slice(cut + 1), 36);
  return { outcome, detail: rest.slice(0, cut), ...(Number.isFinite(ms) ? { at: new Date(ms) } : {}) };
}

/**
 * The start of a failure's detail when the end of the message was sent and nobody recorded
 * the reply (a worker died, the connection dropped after the final dot, the reply timed
 * out): it may have arrived, so it is not sent again unless `resend --include-unknown`.
 */
export const OUTCOME_UNKNOWN = 'outcome unknown';

export function isOutcomeUnknown(entry: Pick<LedgerEntry, 'outcome' | 'detail'>): boolean {
  return entry.outcome === 'failed' && entry.detail.startsWith(OUTCOME_UNKNOWN);
}

/**
 * Recorded when another attempt was at the end of the same message at the same moment (a
 * worker that stalled past its lock while the batch went to another): the other one sent
 * it, and its reply, when it records one, replaces this.
 */
export const OUTCOME_UNKNOWN_CONCURRENT = `${OUTCOME_UNKNOWN}: another attempt was sending this message at the same moment (a worker that stalled past its lock); it was not sent twice`;

/** The failure recorded when an earlier attempt's end was sent and its reply never recorded. */
export const OUTCOME_UNKNOWN_AFTER_CRASH = `${OUTCOME_UNKNOWN}: the message was sent, but the worker stopped before it recorded the server's reply; it may have been delivered, so it was not sent again`;

/**
 * The failure recorded when the end of the message was sent and its reply never came (it timed
 * out after SMTP_DATA_TIMEOUT_MS, or the connection dropped), followed by the error in brackets.
 */
export const OUTCOME_UNKNOWN_AFTER_END = `${OUTCOME_UNKNOWN}: the message was sent, but the server's reply to its end never came; it may have been delivered, so it was not sent again`;
