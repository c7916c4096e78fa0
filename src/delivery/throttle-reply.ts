/**
 * Is this SMTP reply a receiving domain asking us to slow down, and for how long? PURE.
 *
 * A throttling reply says nothing about the recipient (their mailbox is fine) and nothing
 * about our relay (it answered): it is the receiving domain's pace. Sending on, to that
 * domain, at the same speed is what gets a sender blocked, so the whole fleet pauses that
 * domain's group (domain-pace.ts) while every other domain keeps going.
 *
 * The rules, in order:
 * - Only a 4xx reply to the envelope or the message (MAIL FROM, RCPT TO, DATA and its end) can
 *   be one. A 421 at connect or greeting is the relay closing its door (relay-breaker.ts); a
 *   5xx is a refusal, settled as failed. nodemailer reports a 421 to RCPT TO as the connection
 *   closing (command 'CONN'), so the transport says whether the session had reached the envelope.
 * - Greylisting ("greylisted, try again later") asks for one retry of one triplet, not a
 *   slower pace; a full mailbox (4.2.2) and "too many connections" (ours, to the relay) are
 *   not the domain's pace either.
 * - The providers' own texts: Gmail's 4.7.28 ("unusual rate of unsolicited mail") and 4.2.1
 *   ("receiving mail at a rate that prevents additional messages"), Outlook.com's 4.7.500
 *   ("Server busy") and 4.7.650/651 ("temporarily rate limited"), Yahoo's and AOL's [TSS0x]
 *   and [TS0x] ("temporarily deferred due to unexpected volume"), Microsoft's older RP-00x.
 * - The general shape: rate wording ("rate", "rate limit", "too many messages", "volume",
 *   "throttled", "slow down") in any 4xx; or "try again later" with a policy status (4.7.x),
 *   since a bare "try again later" after 4.3.0 is an ordinary temporary failure.
 * - The wait: "try again in 5 minutes", "retry after 300 seconds", "wait 1 hour" and the like;
 *   none when the reply names no time (the pacer's backoff decides then).
 */

export interface ReplyLike {
  responseCode?: number;
  response?: string;
  /** nodemailer's command the reply answered: 'CONN', 'EHLO', 'MAIL FROM', 'RCPT TO', 'DATA', 'AUTH …'. */
  command?: string;
  /**
   * The session had reached this message's envelope (transport.ts): nodemailer reports a 421 to
   * RCPT TO as the server closing the connection ('CONN'), and only this tells the two apart.
   */
  inTransaction?: boolean;
}

export interface Throttle {
  /** The wait the reply asks for, in ms; undefined when it names none. */
  waitMs: number | undefined;
  /** The reply, on one line. */
  reply: string;
}

/** Commands whose 4xx answers this message, not the session: what a receiving domain throttles. */
const MESSAGE_COMMANDS = /^(MAIL FROM|RCPT TO|DATA|MESSAGE|BDAT)/i;

const PROVIDER_TEXTS = [
  /\b4\.7\.28\b/, // Gmail: unusual rate of unsolicited mail
  /\b4\.2\.1\b.*\brate\b/i, // Gmail: receiving mail at a rate that prevents additional messages
  /\b4\.7\.500\b/, // Outlook.com: Server busy
  /\b4\.7\.65[01]\b/, // Outlook.com: temporarily rate limited due to IP reputation
  /\[TSS?0\d\]/i, // Yahoo, AOL: temporarily deferred due to unexpected volume or user complaints
  /\bRP-00\d\b/, // Hotmail's older rate-limit codes
  /\bserver busy\b/i,
];

const RATE_WORDING =
  /\b(rate[ -]?limit(ed|ing)?|ratelimit(ed)?|(unusual|high|excessive|unexpected) (rate|volume)|at a rate|sending rate|too many (messages|mails|emails|recipients)|throttl(ed|ing)|slow down|volume of (mail|messages|email))/i;
const TRY_LATER = /\b(try (again )?later|try again in|retry later)\b/i;
const NOT_A_THROTTLE = /\b(gr[ae]ylist(ed|ing)?|too many connections|mailbox (is )?full|quota|over quota)\b/i;

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

/** "try again in 5 minutes", "retry after 300 seconds", "wait 1 hour", "in 90 sec": the wait asked, in ms. */
export function askedWaitMs(text: string): number | undefined {
  const match =
    /\b(?:try(?: again)?|retry|wait|again|later|deferred)\s+(?:in|after|for)?\s*(\d{1,6})\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b/i.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2]!.toLowerCase()[0]!]!;
}

export function recognizeThrottle(error: ReplyLike): Throttle | undefined {
  const text = (error.response ?? '').replace(/\s+/g, ' ').trim();
  const code = typeof error.responseCode === 'number' ? error.responseCode : Number(/^([2-5]\d\d)\b/.exec(text)?.[1]);
  if (!(code >= 400 && code < 500)) return undefined;
  if (!MESSAGE_COMMANDS.test(error.command ?? '') && !error.inTransaction) return undefined;
  if (NOT_A_THROTTLE.test(text) || /\b4\.2\.2\b/.test(text)) return undefined;
  const enhanced = /\b4\.(\d{1,3})\.\d{1,3}\b/.exec(text);
  const throttled = PROVIDER_TEXTS.some((pattern) => pattern.test(text)) || RATE_WORDING.test(text) || (enhanced?.[1] === '7' && TRY_LATER.test(text));
  return throttled ? { waitMs: askedWaitMs(text), reply: text.slice(0, 500) } : undefined;
}
