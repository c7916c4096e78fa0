/**
 * The pacing group of each recipient's domain, looked up once per domain per process.
 * Adapter around an MX lookup (the composition root gives it the DNS_SERVERS resolver).
 *
 * A lookup must never stall sending: it gets `timeoutMs`, and when DNS fails, is slow or is not
 * there at all, the domain is its own group (the safe side: it is still paced, alone) and is
 * asked again after `retryMs`. Answers are kept for `ttlMs`. Concurrent questions about one
 * domain share one lookup.
 */
import { domainOf, groupOf, knownGroup } from './receiving-domain.ts';

/** MX hosts of a domain, lowest preference first; rejects when DNS could not answer. */
export type MxLookup = (domain: string) => Promise<readonly string[]>;

export interface ReceivingGroupsOptions {
  mx: MxLookup | undefined;
  /** How long one lookup may take before the domain counts as its own group (default 1.5 s). */
  timeoutMs?: number;
  /** How long an answer is kept (default 1 hour). */
  ttlMs?: number;
  /** How soon a domain whose lookup failed is asked again (default 5 minutes). */
  retryMs?: number;
  /** The clock the cache's ages are read on (tests). */
  now?: () => number;
}

interface Cached {
  group: Promise<string>;
  until: number;
}

export class ReceivingGroups {
  private readonly cache = new Map<string, Cached>();
  private readonly settings: Required<Omit<ReceivingGroupsOptions, 'mx'>> & { mx: MxLookup | undefined };

  constructor(options: ReceivingGroupsOptions) {
    this.settings = { timeoutMs: 1_500, ttlMs: 3_600_000, retryMs: 300_000, now: Date.now, ...options };
  }

  /** The group of a recipient's address. */
  groupOfAddress(address: string): Promise<string> {
    return this.groupOfDomain(domainOf(address));
  }

  groupOfDomain(domain: string): Promise<string> {
    const known = knownGroup(domain);
    if (known) return Promise.resolve(known);
    const { mx, now } = this.settings;
    if (!mx) return Promise.resolve(groupOf(domain));
    const cached = this.cache.get(domain);
    if (cached && cached.until > now()) return cached.group;
    const entry: Cached = { group: Promise.resolve(domain), until: now() + this.settings.ttlMs };
    entry.group = this.lookup(domain, mx).then(
      (hosts) => groupOf(domain, hosts),
      () => {
        entry.until = now() + this.settings.retryMs;
        return groupOf(domain);
      },
    );
    this.cache.set(domain, entry);
    // Bounded: the oldest domain goes first.
    if (this.cache.size > 50_000) this.cache.delete(this.cache.keys().next().value!);
    return entry.group;
  }

  private lookup(domain: string, mx: MxLookup): Promise<readonly string[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no MX answer for ${domain} within ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs);
      timer.unref();
      mx(domain).then(
        (hosts) => {
          clearTimeout(timer);
          resolve(hosts);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error as Error);
        },
      );
    });
  }
}
