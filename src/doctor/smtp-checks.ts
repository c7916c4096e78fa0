/**
 * The relay as a delivery worker meets it: it answers, encrypts with a certificate that checks
 * out, takes the credentials in SMTP_URL, and accepts our envelope. PURE: the facts come from one
 * SMTP session the adapter held (smtp-probe.ts), which ended with RSET and QUIT, nothing sent.
 */
import { verdict, type CheckResult } from './check.ts';

export interface SmtpReply {
  readonly code: number;
  readonly text: string;
}

export interface SmtpFacts {
  /** host:port as SMTP_URL names it (never its credentials). */
  readonly target: string;
  /** smtps://: TLS from the first byte. */
  readonly implicitTls: boolean;
  /** localhost, 127.0.0.1 or ::1 as written in SMTP_URL. */
  readonly local: boolean;
  readonly hasCredentials: boolean;
  readonly allowSelfSigned: boolean;
  /** The greeting, or why there was none (refused, timeout, no such host). */
  readonly connect: { readonly ok: true; readonly greeting: SmtpReply } | { readonly ok: false; readonly error: string };
  /** After EHLO (on plain smtp://). */
  readonly starttlsOffered?: boolean;
  /** The TLS handshake (smtps:// or after STARTTLS), if one was tried. */
  readonly tls?: { readonly ok: true; readonly authorized: boolean; readonly authorizationError?: string } | { readonly ok: false; readonly error: string };
  /** The AUTH mechanisms offered once encrypted (or in the clear when there was no TLS). */
  readonly authOffered?: readonly string[];
  readonly auth?: SmtpReply;
  readonly mailFrom?: { readonly address: string; readonly reply: SmtpReply };
  readonly rcptTo?: { readonly address: string; readonly reply: SmtpReply };
  /** A failure past the greeting that ended the session early (the connection dropped, a timeout). */
  readonly brokenOff?: string;
}

const ok = (reply: SmtpReply | undefined) => reply !== undefined && reply.code >= 200 && reply.code < 300;
const said = (reply: SmtpReply) => `${reply.code} ${reply.text}`;

export function checkSmtp(facts: SmtpFacts | undefined): CheckResult[] {
  const connect = verdict('smtp.connect', 'smtp');
  const starttls = verdict('smtp.starttls', 'smtp');
  const certificate = verdict('smtp.certificate', 'smtp');
  const auth = verdict('smtp.auth', 'smtp');
  const envelope = verdict('smtp.envelope', 'smtp');
  if (!facts) {
    const why = 'SMTP_URL is not set';
    return [
      connect.fail(`${why}: delivery workers cannot send`, "set SMTP_URL=smtp://user:password@smtp.example.com:587 (your provider's submission server)"),
      starttls.skip(why),
      certificate.skip(why),
      auth.skip(why),
      envelope.skip(why),
    ];
  }
  if (!facts.connect.ok) {
    const why = `no SMTP session with ${facts.target}`;
    return [
      connect.fail(
        `cannot reach the relay at ${facts.target}: ${facts.connect.error}`,
        'check the host and port in SMTP_URL, and that this machine may connect out to it (firewalls often block port 25)',
      ),
      starttls.skip(why),
      certificate.skip(why),
      auth.skip(why),
      envelope.skip(why),
    ];
  }
  const results: CheckResult[] = [];
  const greeting = facts.connect.greeting;
  results.push(
    greeting.code === 220
      ? connect.pass(`the relay at ${facts.target} answers: ${said(greeting)}`)
      : connect.fail(
          `the relay at ${facts.target} greets with ${said(greeting)}, not 220`,
          'ask your provider why it refuses this machine, or use another SMTP_URL',
        ),
  );
  const tls = facts.tls;
  if (facts.implicitTls) {
    results.push(
      tls?.ok
        ? starttls.pass('TLS from the start (smtps://)')
        : starttls.fail(
            `the TLS handshake with ${facts.target} failed: ${tls && !tls.ok ? tls.error : 'not tried'}`,
            'check the port: smtps:// is usually 465, smtp:// with STARTTLS 587',
          ),
    );
  } else if (!facts.starttlsOffered) {
    results.push(
      facts.local
        ? starttls.pass(`the relay is on this machine (${facts.target}) and offers no STARTTLS: nothing leaves the machine unencrypted on the way to it`)
        : starttls.fail(
            `the relay at ${facts.target} offers no STARTTLS: the password and every message would cross the network in the clear`,
            "use your provider's submission port with STARTTLS (587) or smtps:// (465), or enable TLS on the relay",
          ),
    );
  } else {
    results.push(
      tls?.ok
        ? starttls.pass('STARTTLS offered, and the connection upgraded')
        : starttls.fail(`STARTTLS is offered but the upgrade failed: ${tls && !tls.ok ? tls.error : 'not tried'}`, "check the relay's TLS setup"),
    );
  }
  if (!tls?.ok) results.push(certificate.skip('no TLS connection to look at'));
  else if (tls.authorized) results.push(certificate.pass(`the relay's certificate is valid for ${facts.target}`));
  else if (facts.allowSelfSigned) {
    results.push(
      certificate.warn(
        `the relay's certificate does not check out (${tls.authorizationError ?? 'not trusted'}); accepted because SMTP_TLS_ALLOW_SELF_SIGNED is set: the connection is encrypted, but to whom is not proven`,
        'use a certificate from a public CA on the relay, then unset SMTP_TLS_ALLOW_SELF_SIGNED',
      ),
    );
  } else {
    results.push(
      certificate.fail(
        `the relay's certificate does not check out: ${tls.authorizationError ?? 'not trusted'}; delivery workers will refuse it`,
        "use a certificate from a public CA for the relay's host name (Let's Encrypt), connect by that name, or set SMTP_TLS_ALLOW_SELF_SIGNED=true for a private relay you trust",
      ),
    );
  }
  if (!facts.hasCredentials)
    results.push(
      auth.skip('no credentials in SMTP_URL', facts.authOffered?.length ? 'the relay offers AUTH: if it requires it, put user:password in SMTP_URL' : ''),
    );
  else if (!facts.auth) {
    results.push(
      facts.authOffered && facts.authOffered.length === 0
        ? auth.fail(
            'SMTP_URL has credentials but the relay offers no AUTH',
            "use your provider's submission port (587 with STARTTLS, or 465), where it offers AUTH",
          )
        : auth.skip(`the session ended before AUTH: ${facts.brokenOff ?? 'see the checks above'}`),
    );
  } else if (ok(facts.auth)) results.push(auth.pass('the relay accepts the credentials in SMTP_URL'));
  else
    results.push(
      auth.fail(
        `the relay refuses the credentials in SMTP_URL: ${said(facts.auth)}`,
        'check the user name and password in SMTP_URL (special characters must be percent-encoded)',
      ),
    );
  results.push(envelopeCheck(facts, envelope));
  return results;
}

function envelopeCheck(facts: SmtpFacts, envelope: ReturnType<typeof verdict>): CheckResult {
  if (!facts.mailFrom) return envelope.skip(`no envelope was tried: ${facts.brokenOff ?? 'the session ended before MAIL FROM'}`);
  if (!ok(facts.mailFrom.reply)) {
    return envelope.fail(
      `the relay refuses MAIL FROM:<${facts.mailFrom.address}>: ${said(facts.mailFrom.reply)}`,
      facts.mailFrom.reply.code === 530
        ? 'the relay requires AUTH: put user:password in SMTP_URL'
        : `allow this sender's domain at your provider (a verified sender or domain), or change fromAddress / BOUNCE_DOMAIN`,
    );
  }
  if (!facts.rcptTo) return envelope.skip(`RCPT TO was not tried: ${facts.brokenOff ?? 'the session ended'}`);
  if (!ok(facts.rcptTo.reply)) {
    return envelope.fail(
      `the relay refuses RCPT TO:<${facts.rcptTo.address}>: ${said(facts.rcptTo.reply)}`,
      'the relay must relay for this machine: check its relaying rules, or log in (credentials in SMTP_URL)',
    );
  }
  return envelope.pass(`the relay accepts MAIL FROM:<${facts.mailFrom.address}> and RCPT TO:<${facts.rcptTo.address}>; then RSET, nothing sent`);
}
