/**
 * An SPF evaluator (RFC 7208 check_host) for what newsletters' records use: ip4, ip6, a, mx,
 * include, exists, redirect and all, with the limits of section 4.6.4 (10 mechanisms or modifiers
 * that look DNS up, 10 MX names, 2 lookups that find nothing). ptr is counted but never matches
 * (RFC 7208 asks senders not to use it); macros (`%{i}`) are not expanded: a record that needs
 * them is reported as not evaluated rather than guessed. PURE: the DNS comes in as a DnsLookup.
 */
import { failed, type DnsLookup } from './dns-lookup.ts';
import { inCidr, ipFamily } from './ip-match.ts';

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'permerror' | 'temperror';

export interface SpfOutcome {
  readonly result: SpfResult;
  /** Plain words: what matched, or what is wrong with the record. */
  readonly reason: string;
  /** The record could not be evaluated by this evaluator (macros): not the record's fault. */
  readonly unsupported?: boolean;
}

const MAX_LOOKUPS = 10;
const MAX_VOID_LOOKUPS = 2;
const MAX_MX_NAMES = 10;

interface State {
  lookups: number;
  voids: number;
}

class SpfStop extends Error {
  constructor(readonly outcome: SpfOutcome) {
    super(outcome.reason);
  }
}

const QUALIFIER_RESULT: Record<string, SpfResult> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };

/** The `v=spf1` records among a name's TXT records. */
export function spfRecords(txt: readonly string[]): string[] {
  return txt.filter((record) => /^v=spf1( |$)/i.test(record.trim()));
}

function countLookup(state: State, term: string): void {
  state.lookups += 1;
  if (state.lookups > MAX_LOOKUPS) {
    throw new SpfStop({ result: 'permerror', reason: `more than ${MAX_LOOKUPS} DNS lookups (RFC 7208 4.6.4), the last at "${term}": receivers stop there` });
  }
}

function noteVoid(state: State, found: number, name: string): void {
  if (found > 0) return;
  state.voids += 1;
  if (state.voids > MAX_VOID_LOOKUPS)
    throw new SpfStop({ result: 'permerror', reason: `more than ${MAX_VOID_LOOKUPS} lookups found nothing (the last ${name})` });
}

function targetOf(argument: string | undefined, domain: string, term: string): string {
  const target = (argument ?? domain).replace(/\.$/, '');
  if (target.includes('%'))
    throw new SpfStop({ result: 'permerror', reason: `"${term}" uses an SPF macro, which doctor does not evaluate`, unsupported: true });
  if (!/^[A-Za-z0-9_.-]+$/.test(target) || !target.includes('.')) throw new SpfStop({ result: 'permerror', reason: `"${term}" names no valid domain` });
  return target;
}

/** `a`, `a:host`, `a/24`, `a:host/24//64`, the same for `mx`: the domain and both prefix lengths. */
function splitCidr(rest: string | undefined): { argument: string | undefined; v4: number; v6: number } {
  const match = /^(?::([^/]*))?(?:\/(\d+))?(?:\/\/(\d+))?$/.exec(rest ?? '');
  if (!match) return { argument: '\u0000', v4: 32, v6: 128 };
  return { argument: match[1], v4: match[2] === undefined ? 32 : Number(match[2]), v6: match[3] === undefined ? 128 : Number(match[3]) };
}

async function addressesOf(dns: DnsLookup, name: string, family: 4 | 6): Promise<readonly string[]> {
  const answer = family === 4 ? await dns.a(name) : await dns.aaaa(name);
  if (failed(answer)) throw new SpfStop({ result: 'temperror', reason: `looking up ${name}: ${answer.error}` });
  return answer.records;
}

async function matches(dns: DnsLookup, ip: string, domain: string, name: string, rest: string | undefined, term: string, state: State): Promise<boolean> {
  const family = ipFamily(ip)!;
  switch (name) {
    case 'all':
      return true;
    case 'ip4':
    case 'ip6': {
      const [network = '', prefix] = (rest ?? '').replace(/^:/, '').split('/');
      const width = name === 'ip4' ? 32 : 128;
      if (ipFamily(network) !== (name === 'ip4' ? 4 : 6)) throw new SpfStop({ result: 'permerror', reason: `"${term}" is not a valid ${name} network` });
      return inCidr(ip, network, prefix === undefined ? width : Number(prefix));
    }
    case 'a': {
      const { argument, v4, v6 } = splitCidr(rest);
      const target = targetOf(argument, domain, term);
      countLookup(state, term);
      const found = await addressesOf(dns, target, family);
      noteVoid(state, found.length, target);
      return found.some((address) => inCidr(ip, address, family === 4 ? v4 : v6));
    }
    case 'mx': {
      const { argument, v4, v6 } = splitCidr(rest);
      const target = targetOf(argument, domain, term);
      countLookup(state, term);
      const answer = await dns.mx(target);
      if (failed(answer)) throw new SpfStop({ result: 'temperror', reason: `looking up the MX of ${target}: ${answer.error}` });
      noteVoid(state, answer.records.length, target);
      if (answer.records.length > MAX_MX_NAMES)
        throw new SpfStop({ result: 'permerror', reason: `"${term}": ${target} has more than ${MAX_MX_NAMES} MX records` });
      for (const { exchange } of answer.records) {
        const found = await addressesOf(dns, exchange, family);
        if (found.some((address) => inCidr(ip, address, family === 4 ? v4 : v6))) return true;
      }
      return false;
    }
    case 'include': {
      const target = targetOf(rest?.replace(/^:/, '') || '\u0000', domain, term);
      countLookup(state, term);
      const inner = await evaluate(dns, ip, target, state);
      if (inner.result === 'pass') return true;
      if (inner.result === 'temperror' || inner.result === 'permerror') throw new SpfStop({ ...inner, reason: `in ${term}: ${inner.reason}` });
      if (inner.result === 'none') throw new SpfStop({ result: 'permerror', reason: `"${term}": ${target} has no SPF record` });
      return false;
    }
    case 'exists': {
      const target = targetOf(rest?.replace(/^:/, '') || '\u0000', domain, term);
      countLookup(state, term);
      const found = await addressesOf(dns, target, 4);
      noteVoid(state, found.length, target);
      return found.length > 0;
    }
    case 'ptr':
      countLookup(state, term);
      return false;
    default:
      throw new SpfStop({ result: 'permerror', reason: `"${term}" is not an SPF mechanism` });
  }
}

async function evaluate(dns: DnsLookup, ip: string, domain: string, state: State): Promise<SpfOutcome> {
  const answer = await dns.txt(domain);
  if (failed(answer)) return { result: 'temperror', reason: `looking up the TXT records of ${domain}: ${answer.error}` };
  const records = spfRecords(answer.records);
  if (records.length === 0) return { result: 'none', reason: `${domain} has no SPF record` };
  if (records.length > 1) return { result: 'permerror', reason: `${domain} has ${records.length} SPF records; receivers treat that as an error` };
  const terms = records[0]!.trim().split(/ +/).slice(1);
  let redirect: string | undefined;
  for (const term of terms) {
    const modifier = /^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$/.exec(term);
    if (modifier) {
      if (modifier[1]!.toLowerCase() === 'redirect') redirect = modifier[2];
      continue;
    }
    const mechanism = /^([+~?-]?)([A-Za-z][A-Za-z0-9]*)(.*)$/.exec(term);
    if (!mechanism) return { result: 'permerror', reason: `"${term}" in ${domain}'s SPF record cannot be read` };
    const [, qualifier = '', name = '', rest] = mechanism;
    if (await matches(dns, ip, domain, name.toLowerCase(), rest || undefined, term, state)) {
      const result = QUALIFIER_RESULT[qualifier || '+']!;
      return { result, reason: `${ip} matches "${term}" in ${domain}'s SPF record` };
    }
  }
  if (redirect !== undefined) {
    const target = targetOf(redirect, domain, `redirect=${redirect}`);
    countLookup(state, `redirect=${redirect}`);
    const inner = await evaluate(dns, ip, target, state);
    if (inner.result === 'none') return { result: 'permerror', reason: `redirect=${target}: it has no SPF record` };
    return inner;
  }
  return { result: 'neutral', reason: `nothing in ${domain}'s SPF record matches ${ip}` };
}

/** RFC 7208 check_host(ip, domain): what a receiver concludes for mail from `ip` whose envelope sender is at `domain`. */
export async function checkHost(dns: DnsLookup, ip: string, domain: string): Promise<SpfOutcome> {
  if (ipFamily(ip) === undefined) return { result: 'permerror', reason: `${ip} is not an IP address` };
  try {
    return await evaluate(dns, ip, domain.replace(/\.$/, ''), { lookups: 0, voids: 0 });
  } catch (error) {
    if (error instanceof SpfStop) return error.outcome;
    throw error;
  }
}
