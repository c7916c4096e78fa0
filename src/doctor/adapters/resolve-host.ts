/** A host's first address through the configured DNS (DNS_SERVERS), so that every name doctor reaches is looked up the same way. Adapter. */
import { failed, type DnsLookup } from '../dns-lookup.ts';
import { ipFamily } from '../ip-match.ts';

export type ResolveHost = (host: string) => Promise<string | undefined>;

export function resolveHost(dns: DnsLookup): ResolveHost {
  return async (name) => {
    const host = name.replace(/^\[(.*)\]$/, '$1');
    if (ipFamily(host)) return host;
    // The resolver asks DNS servers only; localhost lives in /etc/hosts.
    if (host.toLowerCase() === 'localhost') return '127.0.0.1';
    const [v4, v6] = await Promise.all([dns.a(host), dns.aaaa(host)]);
    return (failed(v4) ? undefined : v4.records[0]) ?? (failed(v6) ? undefined : v6.records[0]);
  };
}
