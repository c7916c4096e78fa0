/**
 * The envelope of a message read from a mailbox. Over SMTP we see MAIL FROM and RCPT TO; a
 * message in a mailbox keeps only what the delivering server wrote into its header: the
 * envelope sender as `Return-Path`, the envelope recipient as `Delivered-To` (Postfix, Exim,
 * Dovecot's LDA, Gmail) and, before aliases and catch-alls rewrote it, `X-Original-To`
 * (Postfix). The return path a bounce was sent to survives in one of those two, so both are
 * kept; `To` and `Cc` stand in only when neither is there. PURE.
 */
import { addressesIn, parseHeaderFields } from './header-fields.ts';

/** A hostile header section is cut here: the envelope is always near the top. */
const MAX_HEADER_BYTES = 256 * 1024;
/** Enough for every hop of a forwarded message; more is a flood, not an envelope. */
const MAX_RECIPIENTS = 20;

export function mailboxEnvelope(raw: Buffer): { mailFrom: string; rcptTo: string[] } {
  const head = raw.subarray(0, MAX_HEADER_BYTES).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const fields = parseHeaderFields(end < 0 ? head : head.slice(0, end));
  const values = (name: string) => fields.get(name) ?? [];
  // The topmost Return-Path is the one the final delivery wrote; `<>` (a bounce's) has no address.
  const mailFrom = addressesIn(values('return-path')[0])[0] ?? '';
  const delivered = [...values('x-original-to'), ...values('delivered-to')].flatMap((value) => addressesIn(value));
  const candidates = delivered.length > 0 ? delivered : [...values('to'), ...values('cc')].flatMap((value) => addressesIn(value));
  const seen = new Set<string>();
  const rcptTo: string[] = [];
  for (const address of candidates) {
    if (seen.has(address.toLowerCase()) || rcptTo.length === MAX_RECIPIENTS) continue;
    seen.add(address.toLowerCase());
    rcptTo.push(address);
  }
  return { mailFrom, rcptTo };
}
