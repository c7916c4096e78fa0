/**
 * Which addresses a bounce written for people says failed, and what it says about each. PURE.
 *
 * Most mail systems never learned RFC 3464 (qmail, Exim, old Sendmail and Exchange, Lotus
 * Domino, many appliances and webmail providers), and even a standard report often keeps the
 * SMTP reply only in its text. So the text is read the way a person reads it:
 *
 * 1. The notice is the text before the returned copy of the message, which starts at a marker
 *    line ("--- Below this line is a copy of the message.", "------ This is a copy of the
 *    message, including all the headers. ------", "----- Original message -----", "Original
 *    message follows.", ...) or, failing that, at a pasted header block with Received or
 *    Return-Path. Nothing after it is read: the copy is our newsletter, whose text is not the
 *    receiving system's. Delivery-status fields written into the text (Reporting-MTA:,
 *    Final-Recipient: ...) end the notice too: they are read as the report they are.
 * 2. A line is a recipient line when it names one address the way every layout does it: the
 *    address alone on its line (Sendmail, Exim, Gmail), the address first and the reason after
 *    it (`<addr>: ...` in qmail and Postfix, `addr [User unknown]`), after an SMTP reply code
 *    (`554 <addr>... Remote protocol error`), or after a label such as "Recipient:", "Delivery
 *    failed:", "was not delivered to:", "Unable to deliver message to", "error delivering your
 *    mail to".
 * 3. Addresses that cannot be the failed recipient are never taken: the sender's (ours), the
 *    report's own From and To, postmaster and mailer-daemon addresses, and addresses inside
 *    URLs, MAIL FROM commands or "envelope-from".
 * 4. Each recipient's section runs from its first line to the next recipient's first line, or
 *    to the end of the notice. With one recipient, the whole notice is its section.
 */

export interface FailedRecipient {
  address: string;
  /** The part of the notice about this address (the whole notice when it names only one). */
  section: string;
}

const ADDR = String.raw`[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`;

/** The layouts of a recipient line (see 2. above); group 1 is the address. */
const RECIPIENT_LINES: RegExp[] = [
  // Alone on its line, maybe in angle brackets, a list bullet, or a trailing colon (and quoted with ">" in a forward).
  new RegExp(String.raw`^[ \t>]*(?:[*•-][ \t]+)?<?(${ADDR})>?[ \t]*(?::[ \t]*)?$`),
  // First on its line, the reason after it: "<addr>: 550 ...", "addr: Network error", "addr [User unknown]", "addr ... unknown host".
  new RegExp(String.raw`^[ \t>]*<?(${ADDR})>?(?::|[ \t]+\[|[ \t]+\.\.\.|[ \t]+\(|[ \t]+(?=\S))`),
  // After an SMTP reply code, as Sendmail's transcripts give it: "554 <addr>... Remote protocol error".
  new RegExp(String.raw`^[ \t>]*[45]\d\d[ -]<(${ADDR})>`),
  // Last on its line after a colon: "Delivery failed 20 attempts: addr", "Invalid final delivery userid: addr".
  new RegExp(String.raw`:[ \t]*<?(${ADDR})>?[ \t]*(?:\.[ \t]*)?$`),
  // After "recipient(s)"/"address(es)" and a colon, mid-line: "The following recipients returned permanent errors: addr. Reason: ...".
  new RegExp(String.raw`\b(?:recipients?|address(?:es)?|addressee)\b[^:\n<@]{0,60}:[ \t]*<?(${ADDR})>?`, 'i'),
  // After a label that says this address failed.
  new RegExp(
    String.raw`(?:recipient(?: address)?|delivery failed|failed recipient|not (?:be )?delivered to|could not be delivered to|unable to deliver (?:message )?to|error delivering your mail to|rcpt to|following (?:recipient|address)(?:\(es\))?(?: failed)?|rejected recipient|(?:final )?delivery userid|allowed size|target mail address)[ \t]*(?::[ \t]*)?<?(${ADDR})>?`,
    'i',
  ),
];

/** Where a returned copy of the message starts (see 1. above). */
const COPY_MARKERS: RegExp[] = [
  /^[ \t>]*[-=*|#_]{2,}[ \t]*(?:original message|returned message|unsent message|original mail|the header of the original|message text follows|undelivered message)/im,
  /^[\W_]*(?:below (?:this line )?is a copy of the (?:original )?message|this is a copy of the message|(?:enclosed|included) is a copy of the message|copy of the original message)/im,
  /^[\W_]*(?:original message|message headers|message text|unsent message) follows?\b/im,
  // The machine-readable report written into the text: read as the delivery status, not as words.
  /^[ \t>]*(?:reporting-mta|final-recipient|original-recipient|arrival-date)[ \t]*:/im,
];

/** Lines that name addresses which are not recipients: senders, message ids, links. */
const SKIPPED_LINE = /\b(?:mail from|envelope-from|from:|sender:|reply-to:|return-path:|original sender|message-id|in-reply-to|references:|https?:\/\/)/i;

/** Addresses that are never the failed recipient, whatever the layout. */
const NOT_A_RECIPIENT = /^(?:postmaster|mailer-daemon|mail-daemon|mailerdaemon|mail\.delivery\.system|post_master|noreply|no-reply|abuse|support)@/i;

/** The text before the returned copy of the message. */
export function noticeOf(text: string, copyIndex: number | null): string {
  let end = copyIndex ?? text.length;
  for (const marker of COPY_MARKERS) {
    const found = marker.exec(text);
    if (found && found.index < end) end = found.index;
  }
  return text.slice(0, end);
}

/**
 * Every address the notice says failed, in order, with its section. `notRecipients` are the
 * addresses known to be someone else (the sender, the report's own From and To).
 */
export function findFailedRecipients(notice: string, notRecipients: readonly string[]): FailedRecipient[] {
  const excluded = new Set(notRecipients.map((a) => a.toLowerCase()));
  const lines = notice.split('\n');
  const firstLine = new Map<string, number>();
  lines.forEach((line, index) => {
    if (SKIPPED_LINE.test(line) && !/rcpt to/i.test(line)) return;
    for (const layout of RECIPIENT_LINES) {
      const address = layout.exec(line)?.[1]?.replace(/\.+$/, '');
      if (!address) continue;
      const key = address.toLowerCase();
      if (excluded.has(key) || NOT_A_RECIPIENT.test(key) || firstLine.has(key)) break;
      firstLine.set(key, index);
      break;
    }
  });
  const found = [...firstLine.entries()].sort((a, b) => a[1] - b[1]);
  if (found.length === 1) return [{ address: found[0]![0], section: notice }];
  return found.map(([address, start], i) => ({ address, section: lines.slice(start, found[i + 1]?.[1] ?? lines.length).join('\n') }));
}

/** The notice's lines with their indented continuations joined, so a wrapped reply reads as one line. */
export function logicalLines(text: string): string[] {
  const out: string[] = [];
  let indent = -1;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      indent = -1;
      out.push('');
      continue;
    }
    const lineIndent = /^[ \t]*/.exec(line)![0].length;
    if (out.length > 0 && indent >= 0 && lineIndent > indent) {
      out[out.length - 1] += ` ${line.trim()}`;
      continue;
    }
    out.push(line.trim());
    indent = lineIndent;
  }
  return out.filter((line) => line !== '');
}
