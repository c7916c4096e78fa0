/**
 * The machine-readable part of a Delivery Status Notification (RFC 3464
 * `message/delivery-status`, RFC 6533 `message/global-delivery-status`). PURE.
 *
 * RFC 3464 says: one group of per-message fields, then one group per recipient, separated by
 * blank lines. Real reports bend that: groups run together without the blank line, fields get a
 * space before the colon, Final-Recipient comes after Action. So a recipient's group is any run
 * of fields naming a recipient, and a new recipient starts whenever a field repeats.
 */
import { addressesIn, parseHeaderFields } from './header-fields.ts';

/** The per-recipient fields the classifier uses, as they were written (minus the type prefix). */
export interface DeliveryStatusRecipient {
  finalRecipient: string | null;
  originalRecipient: string | null;
  /** Lower case: `failed`, `delayed`, `delivered`, `relayed`, `expanded` (or whatever the report said). */
  action: string | null;
  /** The RFC 3463 code `class.subject.detail`, or null when the field is absent or not a code. */
  status: string | null;
  diagnosticCode: string | null;
  remoteMta: string | null;
}

export interface DeliveryStatus {
  reportingMta: string | null;
  recipients: DeliveryStatusRecipient[];
}

const RECIPIENT_FIELDS = new Set(['final-recipient', 'original-recipient', 'action', 'status', 'diagnostic-code', 'remote-mta', 'x-actual-recipient']);

/** `rfc822; Kim <kim@example.org>` -> `kim@example.org`; the address type is dropped. */
export function addressOfTypedField(value: string | null | undefined): string | null {
  if (!value) return null;
  const typed = /^\s*[A-Za-z0-9/_-]+\s*;\s*(.*)$/.exec(value);
  return addressesIn(typed ? typed[1]! : value)[0] ?? null;
}

/** The first `class.subject.detail` code in a text (`5.1.1`, `4.4.7`), or null. */
export function statusCodeIn(value: string | null | undefined): string | null {
  if (!value) return null;
  return /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)/.exec(value)?.slice(1, 4).join('.') ?? null;
}

function emptyRecipient(): DeliveryStatusRecipient {
  return { finalRecipient: null, originalRecipient: null, action: null, status: null, diagnosticCode: null, remoteMta: null };
}

function isMeaningful(recipient: DeliveryStatusRecipient): boolean {
  return recipient.finalRecipient !== null || recipient.originalRecipient !== null;
}

export function parseDeliveryStatus(text: string): DeliveryStatus {
  const fields = [...parseFieldLines(text)];
  const recipients: DeliveryStatusRecipient[] = [];
  let reportingMta: string | null = null;
  let current: DeliveryStatusRecipient | undefined;
  let seen = new Set<string>();
  for (const { name, value, blankBefore } of fields) {
    if (name === 'reporting-mta' && reportingMta === null) reportingMta = value.replace(/^\s*dns\s*;\s*/i, '').trim();
    if (!RECIPIENT_FIELDS.has(name)) continue;
    if (!current || blankBefore || seen.has(name)) {
      if (current && isMeaningful(current)) recipients.push(current);
      current = emptyRecipient();
      seen = new Set();
    }
    seen.add(name);
    if (name === 'final-recipient' || name === 'x-actual-recipient') current.finalRecipient ??= addressOfTypedField(value);
    else if (name === 'original-recipient') current.originalRecipient = addressOfTypedField(value);
    else if (name === 'action')
      current.action =
        value
          .trim()
          .toLowerCase()
          .split(/[\s;(]/)[0] || null;
    else if (name === 'status') current.status = statusCodeIn(value);
    else if (name === 'diagnostic-code') current.diagnosticCode = value.trim();
    else if (name === 'remote-mta') current.remoteMta = value.replace(/^\s*dns\s*;\s*/i, '').trim();
  }
  if (current && isMeaningful(current)) recipients.push(current);
  return { reportingMta, recipients };
}

/** Every field of the text in order, folded lines joined, with whether a blank line came before it. */
function* parseFieldLines(text: string): Generator<{ name: string; value: string; blankBefore: boolean }> {
  let blank = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      blank = true;
      continue;
    }
    let block = line;
    while (i + 1 < lines.length && /^[ \t]+\S/.test(lines[i + 1]!)) block += `\n${lines[++i]}`;
    const parsed = parseHeaderFields(block);
    for (const [name, values] of parsed) for (const value of values) yield { name, value, blankBefore: blank };
    blank = false;
  }
}
