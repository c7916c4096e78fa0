/**
 * The DNS a receiver looks at before it trusts a message: SPF on the envelope sender's domain,
 * the DKIM key, DMARC and its alignment with From, the bounce domain's MX. Each check asks
 * through the DnsLookup it is given (the adapter's, or a test's) and returns one verdict.
 */
import { verdict, type CheckResult } from './check.ts';
import { publicKeyOf, tagList } from './dkim-key.ts';
import { aligned, dmarcRecords, organizationalDomain, parseDmarc, type DmarcRecord } from './dmarc.ts';
import { failed, type DnsLookup } from './dns-lookup.ts';
import { ipFamily } from './ip-match.ts';
import { checkHost, spfRecords } from './spf.ts';

/** The host deliveries leave through (SMTP_URL's), and its addresses as the configured DNS gives them. */
export interface RelayFacts {
  readonly host: string;
  /** localhost, 127.0.0.1 or ::1 as written in SMTP_URL: a mail server on this machine. */
  readonly local: boolean;
}

function ipDirective(ip: string): string {
  return `${ipFamily(ip) === 6 ? 'ip6' : 'ip4'}:${ip}`;
}

async function relayAddresses(dns: DnsLookup, host: string): Promise<{ addresses: string[] } | { error: string }> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (ipFamily(bare)) return { addresses: [bare] };
  const [v4, v6] = await Promise.all([dns.a(bare), dns.aaaa(bare)]);
  if (failed(v4) && failed(v6)) return { error: v4.error };
  const addresses = [...(failed(v4) ? [] : v4.records), ...(failed(v6) ? [] : v6.records)];
  return addresses.length > 0 ? { addresses } : { error: `${bare} has no A or AAAA record` };
}

/** One SPF record on `domain`, and it lets the relay's addresses send for it. */
export async function checkSpf(dns: DnsLookup, input: { id: string; domain: string; role: string; relay: RelayFacts | undefined }): Promise<CheckResult> {
  const { domain, relay } = input;
  const v = verdict(input.id, 'dns');
  const example = relay && !relay.local ? `the relay's address, e.g. "ip4:…", or your provider's "include:…"` : `"include:<your provider's SPF domain>"`;
  const answer = await dns.txt(domain);
  if (failed(answer))
    return v.warn(`cannot look up the TXT records of ${domain} (${input.role}): ${answer.error}`, 'check DNS_SERVERS, or run doctor where DNS answers');
  const records = spfRecords(answer.records);
  if (records.length === 0) {
    return v.fail(
      `${domain} (${input.role}) has no SPF record: receivers cannot tell your mail from forged mail`,
      `publish one TXT record on ${domain}: "v=spf1 ${example} -all"`,
    );
  }
  if (records.length > 1) {
    return v.fail(
      `${domain} (${input.role}) has ${records.length} SPF records; receivers treat that as an error (permerror) and SPF fails`,
      `merge them into one "v=spf1 … -all" record and delete the others`,
    );
  }
  const record = records[0]!;
  if (!relay)
    return v.warn(
      `${domain} has one SPF record ("${record}"), but SMTP_URL is not set, so which host it must authorize is unknown`,
      'set SMTP_URL and run doctor again',
    );
  if (relay.local) {
    return v.warn(
      `${domain} has one SPF record ("${record}"); the relay is this machine (${relay.host}), whose public address doctor cannot see`,
      `make sure the record names the address this machine sends from (ip4:/ip6:), or the include: of the provider it relays through`,
    );
  }
  const found = await relayAddresses(dns, relay.host);
  if ('error' in found) return v.warn(`cannot find the addresses of the relay ${relay.host}: ${found.error}`, 'check SMTP_URL and DNS_SERVERS');
  for (const ip of found.addresses) {
    const outcome = await checkHost(dns, ip, domain);
    if (outcome.result === 'pass') continue;
    if (outcome.unsupported) return v.warn(`SPF of ${domain} could not be evaluated here: ${outcome.reason}`, "check it with your provider's SPF checker");
    if (outcome.result === 'temperror') return v.warn(`SPF of ${domain} could not be evaluated: ${outcome.reason}`, 'check DNS_SERVERS, or run doctor again');
    if (outcome.result === 'permerror') {
      return v.fail(
        `the SPF record of ${domain} is broken: ${outcome.reason}`,
        `fix the record so receivers can evaluate it (at most 10 lookups through include, a, mx, exists, redirect)`,
      );
    }
    return v.fail(
      `SPF of ${domain} does not authorize the relay ${relay.host} (${ip}): ${outcome.result}, ${outcome.reason}`,
      `add "${ipDirective(ip)}" (or your provider's "include:…") before the "all" of ${domain}'s SPF record`,
    );
  }
  return v.pass(`SPF of ${domain} (${input.role}) authorizes the relay ${relay.host} (${found.addresses.join(', ')})`);
}

/** The DKIM record at <selector>._domainkey.<domain> publishes the public half of DKIM_PRIVATE_KEY. */
export async function checkDkim(dns: DnsLookup, dkim: { domainName: string; keySelector: string; privateKey: string } | undefined): Promise<CheckResult> {
  const v = verdict('dns.dkim', 'dns');
  if (!dkim) {
    return v.skip(
      'no DKIM key configured (DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY are unset): messages are not signed here',
      'set all three, or check that your SMTP provider signs with DKIM for your From domain',
    );
  }
  const name = `${dkim.keySelector}._domainkey.${dkim.domainName}`;
  const key = publicKeyOf(dkim.privateKey);
  if (!key)
    return v.fail(
      'DKIM_PRIVATE_KEY is not a PEM private key that can be read',
      'set it to the PEM key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY), with \\n for line breaks on one line',
    );
  const publish = `publish ${name} TXT "v=DKIM1; k=${key.type}; p=${key.p}"`;
  const answer = await dns.txt(name);
  if (failed(answer)) return v.warn(`cannot look up ${name}: ${answer.error}`, 'check DNS_SERVERS, or run doctor where DNS answers');
  const records = answer.records.filter((record) => /(^|;)\s*p\s*=/.test(record));
  if (records.length === 0) return v.fail(`no DKIM record at ${name}: receivers cannot check the signature`, publish);
  if (records.length > 1) return v.fail(`${records.length} DKIM records at ${name}; receivers may pick either`, `keep one: ${publish}`);
  const tags = tagList(records[0]!);
  const published = (tags.get('p') ?? '').replace(/\s+/g, '');
  if (published === '') return v.fail(`the DKIM record at ${name} is revoked (empty p=)`, publish);
  const type = (tags.get('k') ?? 'rsa').toLowerCase();
  if (type !== key.type) return v.fail(`the DKIM record at ${name} is for a ${type} key; DKIM_PRIVATE_KEY is ${key.type}`, publish);
  if (published !== key.p) {
    return v.fail(
      `the DKIM record at ${name} publishes another key than DKIM_PRIVATE_KEY's: every signature would fail`,
      `${publish} (or set DKIM_PRIVATE_KEY to the key it was made from)`,
    );
  }
  return v.pass(`the DKIM record at ${name} matches DKIM_PRIVATE_KEY (${key.type})`);
}

export interface DmarcFacts {
  readonly check: CheckResult;
  /** The record that applies to the From domain, when there is a valid one. */
  readonly record: DmarcRecord | undefined;
}

/** A DMARC record for the From domain (or its organizational domain) with v=DMARC1 and a policy. */
export async function checkDmarc(dns: DnsLookup, fromDomain: string): Promise<DmarcFacts> {
  const v = verdict('dns.dmarc', 'dns');
  const publish = `publish _dmarc.${organizationalDomain(fromDomain)} TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@${organizationalDomain(fromDomain)}", then tighten p= once the reports are clean`;
  const names = [...new Set([`_dmarc.${fromDomain}`, `_dmarc.${organizationalDomain(fromDomain)}`])];
  for (const name of names) {
    const answer = await dns.txt(name);
    if (failed(answer))
      return { check: v.warn(`cannot look up ${name}: ${answer.error}`, 'check DNS_SERVERS, or run doctor where DNS answers'), record: undefined };
    const records = dmarcRecords(answer.records);
    if (records.length === 0) continue;
    if (records.length > 1)
      return { check: v.fail(`${name} has ${records.length} DMARC records; receivers then apply none`, `keep one; ${publish}`), record: undefined };
    const parsed = parseDmarc(records[0]!);
    if (!parsed.ok) return { check: v.fail(`the DMARC record at ${name} is not valid: ${parsed.why}`, publish), record: undefined };
    const { policy } = parsed.record;
    const note = policy === 'none' ? ' (monitoring only: once the reports show every sender passing, move to p=quarantine, then p=reject)' : '';
    return { check: v.pass(`${name} has a DMARC record with p=${policy}${note}`), record: parsed.record };
  }
  return { check: v.fail(`no DMARC record for ${fromDomain}: Gmail and Yahoo require one from bulk senders`, publish), record: undefined };
}

/** DMARC passes only when SPF or DKIM passes for a domain aligned with From: at least one must be. */
export function checkAlignment(input: {
  fromDomain: string;
  dkimDomain: string | undefined;
  returnPathDomain: string;
  dmarc: DmarcRecord | undefined;
}): CheckResult {
  const v = verdict('dns.dmarc-alignment', 'dns');
  const { fromDomain, dkimDomain, returnPathDomain } = input;
  const adkim = input.dmarc?.adkim ?? 'r';
  const aspf = input.dmarc?.aspf ?? 'r';
  const dkimAligned = dkimDomain !== undefined && aligned(dkimDomain, fromDomain, adkim);
  const spfAligned = aligned(returnPathDomain, fromDomain, aspf);
  const how = (mode: 'r' | 's') => (mode === 's' ? 'strict' : 'relaxed');
  if (dkimAligned || spfAligned) {
    const ways = [
      dkimAligned && `DKIM d=${dkimDomain} (${how(adkim)})`,
      spfAligned && `the return path's domain ${returnPathDomain} (SPF, ${how(aspf)})`,
    ].filter(Boolean);
    return v.pass(`aligned with From (${fromDomain}) through ${ways.join(' and ')}`);
  }
  return v.fail(
    `neither DKIM (${dkimDomain ? `d=${dkimDomain}` : 'not signed here'}) nor the return path (${returnPathDomain}) aligns with From (${fromDomain}): DMARC fails even when SPF and DKIM pass`,
    `set DKIM_DOMAIN to ${fromDomain}, or BOUNCE_DOMAIN to a subdomain of ${organizationalDomain(fromDomain)}`,
  );
}

/** BOUNCE_DOMAIN's MX exists and names a host with an address, so what comes back reaches `newsletter inbound`. */
export async function checkBounceMx(dns: DnsLookup, bounceDomain: string | undefined): Promise<CheckResult> {
  const v = verdict('dns.bounce-mx', 'dns');
  if (!bounceDomain)
    return v.skip(
      'BOUNCE_DOMAIN is not set: bounces go to the From address and nothing reads them',
      'set BOUNCE_DOMAIN to read bounces (docs/operators-guide.md, "Receiving bounces")',
    );
  const publish = `publish ${bounceDomain} MX 10 <the host newsletter inbound runs on>, with an A record for that host`;
  const answer = await dns.mx(bounceDomain);
  if (failed(answer)) return v.warn(`cannot look up the MX of ${bounceDomain}: ${answer.error}`, 'check DNS_SERVERS, or run doctor where DNS answers');
  const exchanges = answer.records.filter((record) => record.exchange !== '' && record.exchange !== '.');
  if (exchanges.length === 0) return v.fail(`${bounceDomain} has no MX record: bounces and complaints sent to it are lost`, publish);
  for (const { exchange } of [...exchanges].sort((a, b) => a.priority - b.priority)) {
    const [v4, v6] = await Promise.all([dns.a(exchange), dns.aaaa(exchange)]);
    const count = (failed(v4) ? 0 : v4.records.length) + (failed(v6) ? 0 : v6.records.length);
    if (count > 0) return v.pass(`${bounceDomain} has its MX at ${exchanges.map((e) => e.exchange).join(', ')}`);
  }
  return v.fail(
    `the MX of ${bounceDomain} (${exchanges.map((e) => e.exchange).join(', ')}) has no address`,
    `give ${exchanges[0]!.exchange} an A record: the address of the host newsletter inbound runs on`,
  );
}
