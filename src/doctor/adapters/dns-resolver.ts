/**
 * The DnsLookup the checks ask, answered by node:dns through the servers DNS_SERVERS names (the
 * system's when empty). NXDOMAIN and "no such record" are answers (no records); a timeout,
 * SERVFAIL or REFUSED is a failure that proves nothing. Adapter.
 */
import { Resolver } from 'node:dns/promises';
import type { DnsAnswer, DnsLookup, MxRecord } from '../dns-lookup.ts';

const NOTHING_THERE = new Set(['ENOTFOUND', 'ENODATA']);

async function answer<T>(question: () => Promise<T[]>): Promise<DnsAnswer<T>> {
  try {
    return { records: await question() };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (NOTHING_THERE.has(code)) return { records: [] };
    return { error: code ? `${code} from the DNS server` : (error as Error).message };
  }
}

export function createDnsLookup(servers: readonly string[], { timeoutMs = 5_000 } = {}): DnsLookup {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) resolver.setServers([...servers]);
  return {
    txt: (name) => answer(async () => (await resolver.resolveTxt(name)).map((strings) => strings.join(''))),
    a: (name) => answer(() => resolver.resolve4(name)),
    aaaa: (name) => answer(() => resolver.resolve6(name)),
    mx: (name) => answer<MxRecord>(() => resolver.resolveMx(name)),
  };
}
