/**
 * Which pacing group a receiving domain belongs to. PURE.
 *
 * A provider paces by its servers, not by the name in the address: gmail.com, googlemail.com
 * and every Google Workspace domain land on Google's MX and share one reputation there, so
 * they share one pause and one cap. The big providers are known by their consumer domains
 * (no DNS needed) and by the names of their MX hosts (a company's own domain on Google or
 * Microsoft); any other domain is a group of its own, named by the domain.
 */

/** Consumer domains whose MX is known without asking DNS. */
const KNOWN_DOMAINS: readonly [RegExp, string][] = [
  [/^(gmail|googlemail)\.com$/, 'google'],
  [/^(outlook|hotmail|live|msn|passport)\.(com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})$/, 'microsoft'],
  [/^(yahoo|ymail|rocketmail)\.(com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})$/, 'yahoo'],
  [/^(aol|aim|verizon)\.(com|net|[a-z]{2})$/, 'yahoo'],
  [/^(icloud|me|mac)\.com$/, 'apple'],
  [/^(gmx|web)\.(de|net|com|at|ch)$/, 'united-internet'],
  [/^(mail|inbox|list|bk)\.ru$/, 'mail.ru'],
  [/^(yandex)\.(ru|com|ua|by|kz)$|^ya\.ru$/, 'yandex'],
];

/** MX host suffixes: the provider that runs the domain's mail. */
const MX_SUFFIXES: readonly [string, string][] = [
  ['google.com', 'google'],
  ['googlemail.com', 'google'],
  ['protection.outlook.com', 'microsoft'],
  ['outlook.com', 'microsoft'],
  ['hotmail.com', 'microsoft'],
  ['yahoodns.net', 'yahoo'],
  ['icloud.com', 'apple'],
  ['mail.me.com', 'apple'],
  ['mimecast.com', 'mimecast'],
  ['pphosted.com', 'proofpoint'],
  ['zoho.com', 'zoho'],
  ['zoho.eu', 'zoho'],
  ['gmx.net', 'united-internet'],
  ['web.de', 'united-internet'],
  ['yandex.net', 'yandex'],
  ['mail.ru', 'mail.ru'],
];

/** The part of an address after its last @, lower case; the whole string when it has none. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** The group of a domain known without DNS; undefined when its MX must be asked. */
export function knownGroup(domain: string): string | undefined {
  const name = domain.toLowerCase().replace(/\.$/, '');
  return KNOWN_DOMAINS.find(([pattern]) => pattern.test(name))?.[1];
}

/** The group of a domain whose MX hosts are these (lowest preference first); the domain itself when no provider is known. */
export function groupOf(domain: string, mxHosts: readonly string[] = []): string {
  const known = knownGroup(domain);
  if (known) return known;
  for (const host of mxHosts) {
    const name = host.toLowerCase().replace(/\.$/, '');
    const match = MX_SUFFIXES.find(([suffix]) => name === suffix || name.endsWith(`.${suffix}`));
    if (match) return match[1];
  }
  return domain.toLowerCase().replace(/\.$/, '');
}
