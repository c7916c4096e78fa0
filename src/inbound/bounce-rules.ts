/**
 * What one failed recipient's report means: hard, soft or not a bounce at all, with a reason.
 * PURE. The rules, and why each is there, are also in docs/operators-guide.md ("Reading bounces").
 *
 * The costly mistake is a hard bounce that was not one: a reader whose address works is
 * suppressed for good and never hears from us again. A soft bounce that was really hard costs
 * a few more attempts. So a recipient is hard only when the report is sure the address (or its
 * domain) does not exist, and anything ambiguous is soft:
 *
 * 1. Not a failure. `delivered`, `relayed` and `expanded` are successes: no bounce. RFC 3464
 *    `Action: delayed` (and text bounces that say they are only a warning: "THIS IS A WARNING
 *    MESSAGE ONLY", "has not yet been delivered", "will be retried") is soft with the reason
 *    `delayed`: the message has not arrived (yet). It is never hard, and what comes back does
 *    not count it towards suppression, since the message may still arrive (apply-returned-mail).
 * 1b. Exchange Online's directory-based edge blocking answers an address its directory does
 *    not have with `550 5.4.1 Recipient address rejected: Access denied` (Microsoft documents
 *    it as "the recipient doesn't exist"): hard, although "access denied" reads like a block.
 * 2. Temporary. A 4.x.x status or a 4xx reply: the receiving system said "not now", so soft,
 *    even when the words say "user unknown" (some servers answer 450 while a mailbox is
 *    being set up or moved).
 * 3. Soft words win. If the report says anything that makes a soft reading possible (mailbox
 *    full, disabled, blocked, spam, policy, DMARC, rate limit, timeout, expired, mailer or
 *    system error ...), the recipient is soft, whatever the status code: a 5.1.1 next to "Not
 *    enough disk space", or a `procmail: Couldn't create` mailer error, is not a dead address.
 *    So is a specific status of another class (5.2.x mailbox, 5.3.x system, 5.4.x routing but
 *    5.4.4, 5.6.x content, 5.7.x policy): a 5.2.1 that says "User Unknown" is a disabled mailbox.
 * 4. Hard status. RFC 3463 X.1.x is "addressing status": 5.1.1 bad mailbox, 5.1.2 bad domain,
 *    5.1.3 bad address syntax, 5.1.6 moved with no forwarding address, 5.1.10 null MX (RFC
 *    7505), and the others in the class, and 5.4.4 "unable to route" (no such domain). The two
 *    that are about the sender's address, 5.1.7 and 5.1.8, are not. A hard status is hard.
 * 5. Hard words. Without a hard status, a "user unknown", "no such user", "mailbox
 *    unavailable", "host not found" reply is hard only when it is known to be about this
 *    address: it answered RCPT TO; or a standard report failed this one recipient with it; or
 *    it comes from the recipient's own domain, the authority on its mailboxes; or it is a
 *    domain the reporting system itself found missing (no remote reply, or an authoritative
 *    DNS answer). The same words as a reply to DATA (the server accepted the address, then
 *    refused the content: a filter) or to MAIL FROM or the connection (nothing to do with the
 *    address) are soft (`filtered`, `blocked`). So is a reply that names an empty address
 *    (`550 : User unknown`): no RCPT was being answered. And so is a remote reply quoted without
 *    its code or the command it answered: the words are sure, their source is not.
 * 6. Everything else that failed is soft, with the reason its status class suggests.
 *
 * Soft reasons about the sender (blocked, spam, policy, authentication, rate limits, relaying)
 * are flagged `aboutSender`: the receiving system refused us, not the address, so they must
 * never count against the subscriber.
 */

import { logicalLines } from './failed-recipients.ts';

export type BounceReason =
  | 'user-unknown'
  | 'host-unknown'
  | 'has-moved'
  | 'bad-address'
  | 'mailbox-full'
  | 'mailbox-disabled'
  | 'message-too-big'
  | 'expired'
  | 'network'
  | 'system'
  | 'filtered'
  | 'blocked'
  | 'spam'
  | 'policy'
  | 'rate-limited'
  | 'other'
  | 'delayed';

export interface FailureReport {
  /** The DSN's Action, lower case; null for a bounce written only for people. */
  action: string | null;
  /** The DSN's Status field: the reporting system's own verdict. */
  status: string | null;
  /**
   * Where the SMTP reply is: the DSN's Diagnostic-Code, or, for a text bounce (or a DSN that
   * gives no Diagnostic-Code), the recipient's section of the notice. Codes here are trusted.
   */
  reply: string | null;
  /**
   * The notice's text about this recipient when `reply` is the DSN's Diagnostic-Code. Read only
   * for soft words and for the SMTP command: it may quote the sending system's own guesses.
   */
  notice: string;
  /** Whether the report comes from the recipient's own domain (its From is at that domain or one of its subdomains or parents). */
  fromRecipientDomain: boolean;
}

export interface FailureVerdict {
  kind: 'hard' | 'soft' | 'none';
  reason: BounceReason;
  /** The RFC 3463 code that best describes the failure, or null. */
  status: string | null;
  /** The receiving system refused the sender, not the address: never count it against the subscriber. */
  aboutSender: boolean;
  /** One line: the reply (or the text) that says why, at most 300 characters. */
  diagnostic: string | null;
}

interface SoftRule {
  reason: BounceReason;
  aboutSender: boolean;
  pattern: RegExp;
}

/**
 * Soft words, in the order they are tried. Reasons about the recipient's mailbox come first,
 * so "mailbox full ... try again later" is `mailbox-full`, not a rate limit.
 */
const SOFT_RULES: SoftRule[] = [
  {
    reason: 'mailbox-full',
    aboutSender: false,
    pattern:
      /mailbox (?:is |was )?full|\bfull mailbox|(?:over|exceed\w*)[ \t]+(?:the[ \t]+|their[ \t]+|his[ \t]+|her[ \t]+|its[ \t]+)?(?:storage[ \t]+|disk[ \t]+|mailbox[ \t]+)?quota|quota (?:exceeded|exceed|full)|\bquota\b.{0,80}\bexceeded|insufficient (?:disk |system )?(?:space|storage)|not enough (?:disk |free )?space|exceeds? (?:the )?allowed size|(?:account|inbox|mailbox|mailfolder|disk) (?:is )?full|user is over|over quota|storage (?:full|limit)/i,
  },
  {
    reason: 'mailbox-disabled',
    aboutSender: false,
    pattern:
      /\bdisabled\b|\bsuspended\b|\binactive\b|\bdeactivated\b|not active|\blocked\b|\bfrozen\b|discontinued|account (?:has been )?(?:closed|expired|blocked|terminated)|no longer active|\bon hold\b|\bexpired account/i,
  },
  {
    reason: 'message-too-big',
    aboutSender: false,
    pattern: /too (?:big|large)|size (?:limit|exceed)|exceeds? (?:the )?(?:fixed )?(?:maximum )?(?:message )?size|message size|mail size/i,
  },
  {
    reason: 'expired',
    aboutSender: false,
    pattern:
      /message expired|\bexpired\b|retry time(?:out)? (?:exceeded|reached)|in the queue too long|too long in (?:the )?queue|could not be delivered (?:for|within|after)|was aborted after|delivery failed \d+ attempts|maximum time/i,
  },
  {
    reason: 'network',
    aboutSender: false,
    pattern:
      /timed? ?out|connection (?:refused|reset|lost|closed|dropped)|no route to host|network (?:is )?unreachable|network error|hop count|routing loop|mail loop|too many hops|dns error|\bdns\b.{0,80}(?:fail|error)|could not find a gateway|socket error|not reachable|could not connect|unable to connect/i,
  },
  {
    reason: 'system',
    aboutSender: false,
    pattern:
      /system error|internal (?:server )?error|mailer error|x-unix|\bprocmail\b|couldn'?t create|transaction failed|temporar(?:il)?y|local (?:delivery|configuration) error|i\/o error|protocol error|resources? (?:temporarily )?unavailable|could not load|not available|try (?:again )?later|please try again/i,
  },
  {
    reason: 'blocked',
    aboutSender: true,
    pattern:
      /blocked|block ?list|black ?list|(?<!not )\blisted (?:in|on|at|by)\b|spamhaus|spamcop|\bsorbs\b|dnsbl|\brbl\b|reputation|\bbanned\b|reverse dns|\brdns\b|\bptr\b|client host|access denied|not allowed|no access|unverifiable|unverifyable|mismatch|your ip|sending ip|open relay|\bIP\b.{0,80}(?:refused|rejected)|rejected.{0,80}\bIP\b/i,
  },
  {
    reason: 'spam',
    aboutSender: true,
    pattern: /spam|\bUBE\b|\bjunk\b|bulk e?mail|content (?:rejected|filter)|message content|virus|malware|phish|suspicious|security polic/i,
  },
  {
    reason: 'policy',
    aboutSender: true,
    pattern:
      /polic(?:y|ies)|dmarc|\bspf\b|\bdkim\b|authenticat|not authori[sz]ed|purported responsible|sender (?:address|domain) (?:rejected|verification|invalid)|sender verify|not compliant|rfc ?5322|rfc ?2822|relay(?:ing)? (?:access )?denied|not permitted to relay|unable to relay|relay not permitted|(?:we )?do not relay|send mail as|not accepted/i,
  },
  {
    reason: 'rate-limited',
    aboutSender: true,
    pattern: /rate limit|rate-limit|too many (?:connections|messages|recipients|mails|sessions)|frequency|throttl|limit exceeded|exceeded .{0,40}limit/i,
  },
  {
    // A "user unknown" reply that echoes an empty address was not an answer to RCPT TO (rule 5).
    reason: 'filtered',
    aboutSender: false,
    pattern: /\b5\d\d[ \t]+:[ \t]*(?:user|recipient|mailbox|address)/i,
  },
];

/** Hard words (rule 5), each with the reason it gives. */
const HARD_RULES: { reason: BounceReason; pattern: RegExp }[] = [
  {
    reason: 'user-unknown',
    pattern:
      /user unknown|unknown user|no such (?:user|mailbox|recipient|account|address|local user)|user (?:does not|doesn'?t|did not) exist|(?:mailbox|account|address|recipient|user|addressee)(?: \S+)? (?:does not|doesn'?t|did not) exist|user not (?:found|exist)|(?:recipient|mailbox|address|addressee) (?:not found|unknown)|unknown (?:recipient|mailbox|address|local[- ]part|addressee)|not a valid (?:recipient|mailbox|user|address)|invalid (?:recipient|mailbox|user|address|final delivery userid)|recipient (?:address )?invalid|mailbox unavailable|no mailbox (?:here )?by that name|not listed in (?:the )?(?:\w+ )?directory|recipnotfound|not our (?:user|customer)|no longer (?:on (?:this )?server|valid|in use)|account that you tried to reach does not exist|is not a known user/i,
  },
  {
    reason: 'host-unknown',
    pattern:
      /unrouteable address|host (?:or domain name )?not found|host unknown|unknown host|domain (?:name )?not found|no such domain|domain (?:does not|doesn'?t) exist|unrouteable (?:mail )?domain|nxdomain|couldn'?t find a mail exchanger or ip address|null mx|indicated no smtp service|doesn'?t receive email/i,
  },
  { reason: 'has-moved', pattern: /has moved|moved permanently|no forwarding address/i },
];

/** The SMTP command a reply answered, as the report names it. */
const AFTER_DATA =
  /in\s+reply\s+to\s+(?:end\s+of\s+)?data\s+command|after\s+(?:end\s+of\s+)?data\b|>>>\s*DATA|did\s+not\s+like\s+our\s+final\s+DATA|failed\s+after\s+I\s+sent\s+the\s+message|\(DATA\)|STEP:\s*DATA|SMTP\s+command\s*(?::\s*)?DATA|after\s+the\s+message\s+was\s+sent/i;
const AFTER_RCPT =
  /in\s+reply\s+to\s+RCPT\s+TO\s+command|after\s+RCPT\s+TO|>>>\s*RCPT\s+TO|does\s+not\s+like\s+recipient|did\s+not\s+like\s+our\s+RCPT\s+TO|\[RCPT_TO\]|following\s+RCPT\s+command|rejected\s+recipient/i;
const BEFORE_RCPT =
  /in\s+reply\s+to\s+MAIL\s+FROM\s+command|after\s+MAIL\s+FROM|>>>\s*MAIL\s+FROM|after\s+(?:initial\s+)?connection|in\s+reply\s+to\s+(?:EHLO|HELO)|on\s+connect|while\s+connecting|greeting/i;

/** DNS said so with authority: the domain does not exist. */
const AUTHORITATIVE_DNS = /authoritative answer|nxdomain/i;

/** Codes of X.1.x that are about the sender's address, not the recipient's. */
const SENDER_ADDRESS_STATUS = new Set(['5.1.7', '5.1.8']);

const ENHANCED = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/g;

function enhancedCodes(text: string | null): string[] {
  if (!text) return [];
  return [...text.matchAll(ENHANCED)].map((m) => `${m[1]}.${m[2]}.${m[3]}`);
}

/** The first SMTP reply code (550, 421) in a text, or null. */
function replyCode(text: string | null): number | null {
  const match = /(?:^|[\s:;'"(<[=-])([245]\d\d)(?=[\s-]|$)/m.exec(text ?? '');
  return match ? Number(match[1]) : null;
}

function isSpecific(status: string | null): status is string {
  return status !== null && !/^\d\.0\.0$/.test(status);
}

/** The RFC 3463 code that says most: the DSN's Status unless it is only X.0.0, else the first specific one in the reply. */
function bestStatus(report: FailureReport, codes: string[]): string | null {
  if (isSpecific(report.status)) return report.status;
  return codes.find(isSpecific) ?? report.status ?? codes[0] ?? null;
}

function isHardStatus(status: string | null): boolean {
  if (!status || !status.startsWith('5.')) return false;
  if (status.startsWith('5.1.')) return !SENDER_ADDRESS_STATUS.has(status);
  return status === '5.4.4';
}

/**
 * A specific status whose class says what went wrong, and it is not a missing address:
 * X.2.x mailbox, X.3.x mail system, X.4.x network and routing (but 5.4.4), X.6.x content,
 * X.7.x security and policy, and 5.1.7/5.1.8 (the sender's address).
 */
function isSoftStatus(status: string | null): boolean {
  if (!isSpecific(status) || isHardStatus(status)) return false;
  const subject = status.split('.')[1];
  return ['2', '3', '4', '6', '7'].includes(subject!) || SENDER_ADDRESS_STATUS.has(status);
}

function hardReasonOfStatus(status: string): BounceReason {
  if (status === '5.1.2' || status === '5.4.4' || status === '5.1.10') return 'host-unknown';
  if (status === '5.1.6') return 'has-moved';
  if (status === '5.1.3') return 'bad-address';
  return 'user-unknown';
}

/** A soft reason from the status class alone (rule 6). */
function softReasonOfStatus(status: string | null): { reason: BounceReason; aboutSender: boolean } {
  const [, subject, detail] = status?.split('.') ?? [];
  if (subject === '2') return { reason: detail === '2' ? 'mailbox-full' : detail === '3' ? 'message-too-big' : 'mailbox-disabled', aboutSender: false };
  if (subject === '3') return { reason: detail === '4' ? 'message-too-big' : 'system', aboutSender: false };
  if (subject === '4') return { reason: detail === '7' ? 'expired' : 'network', aboutSender: false };
  if (subject === '7') return { reason: 'policy', aboutSender: true };
  if (subject === '1' && SENDER_ADDRESS_STATUS.has(status!)) return { reason: 'policy', aboutSender: true };
  return { reason: 'other', aboutSender: false };
}

/**
 * The line that best says why, at most 300 characters: the first line with an SMTP reply or an
 * RFC 3463 code, else the first line with words a rule knows, else the first line.
 */
function diagnosticLine(text: string | null): string | null {
  if (!text) return null;
  // A line that only names the address says nothing about why.
  const lines = logicalLines(text).filter((line) => !/^<?[^\s<>@]+@[^\s<>]+>?:?$/.test(line));
  const known = (line: string) => SOFT_RULES.some((r) => r.pattern.test(line)) || HARD_RULES.some((r) => r.pattern.test(line));
  const best = lines.find((line) => /(?:^|[\s;:<'"-])[45]\d\d[\s-]|(?<![\d.])[45]\.\d{1,3}\.\d{1,3}(?!\.?\d)/.test(line)) ?? lines.find(known) ?? lines[0];
  if (!best) return null;
  return best.length > 300 ? `${best.slice(0, 297)}...` : best;
}

/**
 * A session transcript (Sendmail's `<<< 450 busy - please try later`) also shows the temporary
 * replies of earlier attempts or other hosts; they say nothing about the failure that ended it.
 */
function withoutEarlierAttempts(text: string | null): string | null {
  return text?.replace(/^[ \t>]*<<<[ \t]*4\d\d\b.*$/gm, '') ?? null;
}

function softMatch(...texts: (string | null)[]): SoftRule | undefined {
  for (const rule of SOFT_RULES) if (texts.some((t) => t && rule.pattern.test(t))) return rule;
  return undefined;
}

/** A warning that the message is still being tried: not a bounce (rule 1). */
export const DELAY_WARNING =
  /warning message only|this is (?:only )?a warning|not yet been delivered|has been delayed|is delayed|delivery (?:is )?delayed|will (?:continue|be) (?:trying|retried|retrying)|(?:still|will) be(?:ing)? retried|no need to resend|do not need to (?:re-?send|resend)|only a temporary failure|delivery attempts will continue/i;

const NOT_FAILURES = new Set(['delivered', 'relayed', 'expanded', 'deliverable']);

/** Rule 1b: Exchange Online's "no such recipient in this organization". */
const DIRECTORY_REJECTION = /\b5\.4\.1\b[\s\S]{0,120}?recipient\s+address\s+rejected:\s+access\s+denied/i;

export function judgeFailure(report: FailureReport): FailureVerdict {
  const codes = [...enhancedCodes(report.status), ...enhancedCodes(report.reply)];
  const status = bestStatus(report, enhancedCodes(report.reply));
  const diagnostic = diagnosticLine(report.reply) ?? diagnosticLine(report.notice);
  const verdict = (kind: FailureVerdict['kind'], reason: BounceReason, aboutSender = false): FailureVerdict => ({
    kind,
    reason,
    status,
    aboutSender,
    diagnostic,
  });

  // Rule 1.
  if (report.action && NOT_FAILURES.has(report.action)) return verdict('none', 'other');
  if (report.action === 'delayed' || (report.action === null && DELAY_WARNING.test(`${report.reply ?? ''}\n${report.notice}`))) {
    return verdict('soft', 'delayed');
  }
  // Rule 1b.
  if (DIRECTORY_REJECTION.test(report.reply ?? '')) return { ...verdict('hard', 'user-unknown'), status: '5.4.1' };

  const soft = softMatch(withoutEarlierAttempts(report.reply), withoutEarlierAttempts(report.notice));
  // Rule 2: the status the reporting system gave, else the reply's own code.
  const code = replyCode(report.reply);
  const temporary =
    status?.startsWith('4.') || (status === null && code !== null && code < 500) || (codes.every((c) => c.startsWith('4.')) && codes.length > 0);
  if (temporary) {
    const fromStatus = softReasonOfStatus(status);
    return soft
      ? verdict('soft', soft.reason, soft.aboutSender)
      : verdict('soft', fromStatus.reason === 'other' ? 'system' : fromStatus.reason, fromStatus.aboutSender);
  }
  // Rule 3: soft words, or a status in a class that is not about the address's existence.
  if (soft) return verdict('soft', soft.reason, soft.aboutSender);
  if (isSoftStatus(status)) {
    const fromStatus = softReasonOfStatus(status);
    return verdict('soft', fromStatus.reason, fromStatus.aboutSender);
  }
  // Rule 4.
  if (isHardStatus(status) || codes.some(isHardStatus)) {
    const hardStatus = isHardStatus(status) ? status! : codes.find(isHardStatus)!;
    return { ...verdict('hard', hardReasonOfStatus(hardStatus)), status: hardStatus };
  }
  // Rule 5.
  const hard = HARD_RULES.find((rule) => rule.pattern.test(report.reply ?? ''));
  if (hard) {
    const context = `${report.reply ?? ''}\n${report.notice}`;
    if (AFTER_RCPT.test(context)) return verdict('hard', hard.reason);
    if (AFTER_DATA.test(context)) return verdict('soft', 'filtered');
    if (BEFORE_RCPT.test(context)) return verdict('soft', 'blocked', true);
    // A standard report has already judged this one recipient as failed.
    if (report.action === 'failed') return verdict('hard', hard.reason);
    // The recipient's own mail system is the authority on which mailboxes it has.
    if (report.fromRecipientDomain) return verdict('hard', hard.reason);
    // A domain that does not exist, found by the reporting system itself (no remote reply) or
    // answered authoritatively by DNS: no filter stands between.
    if (hard.reason === 'host-unknown' && (replyCode(report.reply) === null || AUTHORITATIVE_DNS.test(context))) return verdict('hard', hard.reason);
    // Sure words from an unsure source: a remote reply quoted without its code or the command it answered.
    return verdict('soft', hard.reason);
  }
  // Rule 6.
  const fromStatus = softReasonOfStatus(status);
  return verdict('soft', fromStatus.reason, fromStatus.aboutSender);
}
