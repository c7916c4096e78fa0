/**
 * The DNS questions the checks ask, as the checks see them: the records found (none when the name
 * or the type does not exist), or a temporary failure (timeout, SERVFAIL, REFUSED) that proves
 * nothing either way. The adapter (dns-resolver.ts) answers them through node:dns.
 */

export interface DnsFailure {
  readonly error: string;
}

export type DnsAnswer<T> = { readonly records: readonly T[] } | DnsFailure;

export interface MxRecord {
  readonly exchange: string;
  readonly priority: number;
}

export interface DnsLookup {
  /** Each TXT record with its strings joined, as SPF, DKIM and DMARC read them. */
  txt(name: string): Promise<DnsAnswer<string>>;
  a(name: string): Promise<DnsAnswer<string>>;
  aaaa(name: string): Promise<DnsAnswer<string>>;
  mx(name: string): Promise<DnsAnswer<MxRecord>>;
}

export function failed<T>(answer: DnsAnswer<T>): answer is DnsFailure {
  return 'error' in answer;
}
