/**
 * The one place a doctor run is put together: which checks run, on which facts, in which order.
 * The facts come through `DoctorDeps` (the real adapters from src/processes/doctor.ts, or a
 * test's), so this file does no I/O of its own. Areas run side by side; an adapter that throws
 * is reported as that area's failure, never as a crash of the whole run.
 */
import type { Config } from '../config.ts';
import { verdict, type CheckArea, type CheckResult } from './check.ts';
import { checkAlignment, checkBounceMx, checkDkim, checkDmarc, checkSpf, type RelayFacts } from './dns-checks.ts';
import type { DnsLookup } from './dns-lookup.ts';
import { checkHealthz, checkOneClick, checkPublicUrl, type HttpAnswer } from './http-checks.ts';
import { isLoopback } from './ip-match.ts';
import { checkClip, checkListUnsubscribe, checkTextPart, type MailFacts } from './mail-checks.ts';
import { checkRedis, type RedisFacts } from './redis-checks.ts';
import { checkSmtp, type SmtpFacts } from './smtp-checks.ts';

export interface DoctorDeps {
  config: Config;
  dns: DnsLookup;
  /** Undefined without SMTP_URL. */
  probeSmtp: (() => Promise<SmtpFacts>) | undefined;
  getHealthz: () => Promise<HttpAnswer>;
  /** A skip reason when no secret can sign the probe's token. */
  postOneClick: (() => Promise<HttpAnswer>) | { skip: string };
  redisFacts: () => Promise<RedisFacts | { error: string }>;
  mailFacts: () => Promise<MailFacts | { skip: string }>;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

function relayOf(smtpUrl: string | undefined): RelayFacts | undefined {
  if (!smtpUrl) return undefined;
  const host = new URL(smtpUrl).hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, local: isLoopback(host) };
}

async function dnsChecks({ config, dns }: DoctorDeps): Promise<CheckResult[]> {
  const fromDomain = domainOf(config.identity.fromAddress);
  const bounceDomain = config.bounces.domain;
  const relay = relayOf(config.smtp.url);
  const dmarc = await checkDmarc(dns, fromDomain);
  return [
    await checkSpf(dns, { id: 'dns.spf', domain: fromDomain, role: 'the From domain', relay }),
    bounceDomain
      ? await checkSpf(dns, { id: 'dns.spf-bounce', domain: bounceDomain, role: "the bounce domain, the envelope sender's", relay })
      : verdict('dns.spf-bounce', 'dns').skip('BOUNCE_DOMAIN is not set: the envelope sender is the From address, checked above'),
    await checkDkim(dns, config.smtp.dkim),
    dmarc.check,
    checkAlignment({ fromDomain, dkimDomain: config.smtp.dkim?.domainName.toLowerCase(), returnPathDomain: bounceDomain ?? fromDomain, dmarc: dmarc.record }),
    await checkBounceMx(dns, bounceDomain),
  ];
}

async function httpChecks(deps: DoctorDeps): Promise<CheckResult[]> {
  const { publicUrl, publicUrlSet } = deps.config.http;
  const [healthz, oneClick] = await Promise.all([deps.getHealthz(), 'skip' in deps.postOneClick ? deps.postOneClick : deps.postOneClick()]);
  return [checkPublicUrl({ publicUrl, publicUrlSet }), checkHealthz(publicUrl, healthz), checkOneClick(publicUrl, oneClick)];
}

async function mailChecks(deps: DoctorDeps): Promise<CheckResult[]> {
  const facts = await deps.mailFacts();
  if ('skip' in facts) {
    return [
      verdict('http.list-unsubscribe', 'http').skip(facts.skip, 'put a post in POSTS_DIR'),
      verdict('mail.size', 'mail').skip(facts.skip, 'put a post in POSTS_DIR'),
      verdict('mail.text-part', 'mail').skip(facts.skip, 'put a post in POSTS_DIR'),
    ];
  }
  return [checkListUnsubscribe(facts, deps.config.http.publicUrl), checkClip(facts), checkTextPart(facts)];
}

async function guarded(area: CheckArea, run: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  try {
    return await run();
  } catch (error) {
    return [
      verdict(`${area}.error`, area).fail(`the ${area} checks stopped: ${(error as Error).message}`, 'fix what the message names, then run doctor again'),
    ];
  }
}

export async function runChecks(deps: DoctorDeps): Promise<CheckResult[]> {
  const areas = await Promise.all([
    guarded('dns', () => dnsChecks(deps)),
    guarded('http', () => httpChecks(deps)),
    guarded('mail', () => mailChecks(deps)),
    guarded('smtp', async () => checkSmtp(deps.probeSmtp ? await deps.probeSmtp() : undefined)),
    guarded('redis', async () => checkRedis(await deps.redisFacts())),
  ]);
  const [dns = [], http = [], mail = [], smtp = [], redis = []] = areas;
  // http.list-unsubscribe is read off the built message, and listed with the other PUBLIC_URL checks.
  const headers = mail.filter((check) => check.area === 'http');
  const message = mail.filter((check) => check.area !== 'http');
  return [...dns, ...http, ...headers, ...smtp, ...redis, ...message];
}
