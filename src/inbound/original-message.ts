/**
 * The returned copy of our message: its headers, wherever the bounce put them. PURE.
 *
 * A standard report attaches them as message/rfc822 or text/rfc822-headers; most others paste
 * them into the text after a line such as "--- Below this line is a copy of the message." So
 * besides reading a header block, this finds one inside a text: the first run of field lines
 * that looks like a message's headers (a Message-ID, or From with To or Subject) and is not
 * itself a delivery report or a mail system's own message (a forwarded bounce).
 */
import { addressesIn, firstField, parseHeaderFields, type HeaderFields } from './header-fields.ts';
import type { OriginalMessage } from './inbound-message.ts';

function bracketed(value: string | null): string | null {
  if (!value) return null;
  const inside = /<([^<>]*)>/.exec(value)?.[1] ?? value;
  const trimmed = inside.trim();
  return trimmed === '' ? null : trimmed;
}

export function originalMessageFrom(fields: HeaderFields): OriginalMessage {
  const messageId = bracketed(firstField(fields, 'message-id'));
  const listId = bracketed(firstField(fields, 'list-id'));
  const returnPath = addressesIn(firstField(fields, 'return-path'))[0] ?? null;
  return {
    messageId: messageId && !/\s/.test(messageId) ? messageId : null,
    listId: listId && !/\s/.test(listId) ? listId : null,
    returnPath,
    to: (fields.get('to') ?? []).flatMap(addressesIn),
    from: addressesIn(firstField(fields, 'from'))[0] ?? null,
    subject: firstField(fields, 'subject'),
    campaign: firstField(fields, 'x-newsletter-campaign'),
    autoSubmitted: firstField(fields, 'auto-submitted'),
    feedbackLoopRecipient: addressesIn(firstField(fields, 'x-hmxmroriginalrecipient'))[0] ?? null,
  };
}

const FIELD_LINE = /^[A-Za-z][A-Za-z0-9-]{0,60}[ \t]*:/;
const QUOTE_OR_INDENT = /^(?:>[ \t]?|[ \t]{1,4})(?=[A-Za-z][A-Za-z0-9-]{0,60}[ \t]*:)/;

/**
 * The header block of a message pasted into a text (possibly quoted with `>` or indented), with
 * the index of its first character, or null.
 */
export function findHeadersInText(text: string): { fields: HeaderFields; index: number } | null {
  const lines = text.split(/\r?\n/);
  const starts: number[] = [];
  for (let i = 0, at = 0; i < lines.length; at += lines[i]!.length + 1, i++) starts.push(at);
  for (let i = 0; i < lines.length; i++) {
    const prefix = QUOTE_OR_INDENT.exec(lines[i]!)?.[0] ?? '';
    if (!FIELD_LINE.test(lines[i]!.slice(prefix.length))) continue;
    const block: string[] = [];
    let j = i;
    for (; j < lines.length; j++) {
      if (!lines[j]!.startsWith(prefix)) break;
      const line = lines[j]!.slice(prefix.length);
      if (!FIELD_LINE.test(line) && !/^[ \t]+\S/.test(line)) break;
      block.push(line);
    }
    const fields = parseHeaderFields(block.join('\n'));
    const looksLikeMessage = fields.has('message-id') || (fields.has('from') && (fields.has('to') || fields.has('subject')));
    const isReport = fields.has('final-recipient') || fields.has('action') || fields.has('feedback-type');
    // A forwarded bounce shows the bounce's own headers first; the copy of ours comes later.
    const fromMailSystem = /mailer-daemon|postmaster/i.test(firstField(fields, 'from') ?? '');
    if (looksLikeMessage && !isReport && !fromMailSystem) return { fields, index: starts[i]! };
    i = Math.max(i, j - 1);
  }
  return null;
}
