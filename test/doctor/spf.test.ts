/**
 * The SPF evaluator (RFC 7208 check_host) against a real DNS server (dnsmasq) holding records
 * of each shape: every mechanism doctor evaluates, the qualifiers, include and redirect, and the
 * limits receivers apply (10 lookups, 2 void lookups, one record per name).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsLookup } from '../../src/doctor/adapters/dns-resolver.ts';
import type { DnsLookup } from '../../src/doctor/dns-lookup.ts';
import { checkHost } from '../../src/doctor/spf.ts';
import { freePort } from '../../src/redis/private-redis-server.ts';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.ts';

const chain = (name: string, length: number, last: string): Record<string, string[]> =>
  Object.fromEntries(Array.from({ length }, (_, i) => [`${name}${i + 1}.test`, [i + 1 < length ? `v=spf1 include:${name}${i + 2}.test -all` : last]]));

let server: TestDnsServer;
let dns: DnsLookup;

beforeAll(async () => {
  server = await startDnsServer({
    txt: {
      'pass.test': ['v=spf1 ip4:192.0.2.0/24 -all', 'some-verification=1'],
      'ip6.test': ['v=spf1 ip6:2001:db8::/32 ~all'],
      'a.test': ['v=spf1 a:host.a.test/24 -all'],
      'mx.test': ['v=spf1 mx -all'],
      'include.test': ['v=spf1 include:pass.test ?all'],
      'redirect.test': ['v=spf1 redirect=pass.test'],
      'two.test': ['v=spf1 -all', 'v=spf1 +all'],
      'missing-include.test': ['v=spf1 include:nothing.test -all'],
      'none.test': ['hello'],
      'void.test': ['v=spf1 a:v1.test a:v2.test a:v3.test -all'],
      'macro.test': ['v=spf1 exists:%{i}.spf.test -all'],
      'bad-network.test': ['v=spf1 ip4:300.1.1.1 -all'],
      'ten.test': ['v=spf1 include:t1.test -all'],
      ...chain('t', 10, 'v=spf1 ip4:192.0.2.0/24 -all'),
      'eleven.test': ['v=spf1 include:e1.test -all'],
      ...chain('e', 11, 'v=spf1 ip4:192.0.2.0/24 -all'),
    },
    mx: { 'mx.test': [['mail.mx.test', 10]] },
    host: { 'host.a.test': ['203.0.113.5'], 'mail.mx.test': ['198.51.100.20'] },
  });
  dns = createDnsLookup([server.server]);
});

afterAll(() => server?.stop());

describe('checkHost', () => {
  it.each([
    ['ip4 inside the network', '192.0.2.7', 'pass.test', 'pass'],
    ['ip4 outside it, then -all', '198.51.100.1', 'pass.test', 'fail'],
    ['ip6 inside the network', '2001:db8::1', 'ip6.test', 'pass'],
    ['ip6 outside it, then ~all', '2001:db9::1', 'ip6.test', 'softfail'],
    ['an IPv4 address against ip6 only', '192.0.2.7', 'ip6.test', 'softfail'],
    ["a:host/24 covers the host's network", '203.0.113.99', 'a.test', 'pass'],
    ['mx: the address of the MX host', '198.51.100.20', 'mx.test', 'pass'],
    ['include: passes when the included record passes', '192.0.2.7', 'include.test', 'pass'],
    ['include: an included fail is no match, then ?all', '198.51.100.1', 'include.test', 'neutral'],
    ["redirect= takes the other record's result", '198.51.100.1', 'redirect.test', 'fail'],
    ['redirect= to a pass', '192.0.2.7', 'redirect.test', 'pass'],
    ['no SPF record among the TXT records', '192.0.2.7', 'none.test', 'none'],
    ['exactly 10 lookups are allowed', '192.0.2.7', 'ten.test', 'pass'],
  ])('%s: %s at %s is %s', async (_name, ip, domain, expected) => {
    expect((await checkHost(dns, ip, domain)).result).toBe(expected);
  });

  it.each([
    ['two SPF records on one name', 'two.test', /2 SPF records/],
    ['an include of a name with no SPF record', 'missing-include.test', /nothing\.test has no SPF record/],
    ['an eleventh lookup', 'eleven.test', /more than 10 DNS lookups/],
    ['a third lookup that finds nothing', 'void.test', /more than 2 lookups found nothing/],
    ['a network that is not one', 'bad-network.test', /not a valid ip4 network/],
  ])('%s is a permerror, with the reason', async (_name, domain, reason) => {
    const outcome = await checkHost(dns, '192.0.2.7', domain);
    expect(outcome.result).toBe('permerror');
    expect(outcome.reason).toMatch(reason);
  });

  it("a macro is reported as not evaluated, not as the record's error", async () => {
    expect(await checkHost(dns, '192.0.2.7', 'macro.test')).toMatchObject({ result: 'permerror', unsupported: true });
  });

  it('a DNS server that does not answer is a temperror: it proves nothing', async () => {
    const silent = createDnsLookup([`127.0.0.1:${await freePort()}`], { timeoutMs: 300 });
    expect((await checkHost(silent, '192.0.2.7', 'pass.test')).result).toBe('temperror');
  });
});
