import { describe, expect, it } from 'vitest';
import { domainOf, groupOf } from '../../src/delivery/receiving-domain.ts';
import { ReceivingGroups } from '../../src/delivery/receiving-groups.ts';
import { startDnsServer } from '../helpers/dns-server.ts';
import { createDnsLookup } from '../../src/doctor/adapters/dns-resolver.ts';

describe('groupOf', () => {
  it('groups the consumer domains of the big providers without DNS', () => {
    for (const [domain, group] of [
      ['gmail.com', 'google'],
      ['googlemail.com', 'google'],
      ['outlook.com', 'microsoft'],
      ['hotmail.co.uk', 'microsoft'],
      ['live.fr', 'microsoft'],
      ['msn.com', 'microsoft'],
      ['yahoo.com', 'yahoo'],
      ['yahoo.co.jp', 'yahoo'],
      ['ymail.com', 'yahoo'],
      ['rocketmail.com', 'yahoo'],
      ['aol.com', 'yahoo'],
      ['icloud.com', 'apple'],
      ['GMAIL.COM', 'google'],
    ]) {
      expect(groupOf(domain!), domain).toBe(group);
    }
  });

  it('groups any other domain by its MX: Google Workspace, Microsoft 365, Yahoo-hosted', () => {
    expect(groupOf('company.example', ['aspmx.l.google.com.', 'alt1.aspmx.l.google.com'])).toBe('google');
    expect(groupOf('company.example', ['gmail-smtp-in.l.google.com'])).toBe('google');
    expect(groupOf('contoso.example', ['contoso-example.mail.protection.outlook.com'])).toBe('microsoft');
    expect(groupOf('hotmail.example', ['hotmail-com.olc.protection.outlook.com'])).toBe('microsoft');
    expect(groupOf('att.example', ['mx-biz.mail.am0.yahoodns.net'])).toBe('yahoo');
  });

  it('keeps any other domain as its own group, and is not fooled by a look-alike MX', () => {
    expect(groupOf('example.org', ['mail.example.org'])).toBe('example.org');
    expect(groupOf('Example.ORG.', [])).toBe('example.org');
    expect(groupOf('evil.example', ['google.com.evil.example', 'notgoogle.com'])).toBe('evil.example');
    expect(domainOf('Someone@Mail.Example.COM')).toBe('mail.example.com');
  });
});

describe('ReceivingGroups', () => {
  it('asks MX through the DNS server given, once per domain, and falls back to the domain itself when DNS fails or is slow', async () => {
    const dns = await startDnsServer({ mx: { 'workspace.test': [['aspmx.l.google.com', 1]], 'm365.test': [['m365-test.mail.protection.outlook.com', 0]] } });
    try {
      const lookup = createDnsLookup([dns.server], { timeoutMs: 500 });
      let asked = 0;
      const groups = new ReceivingGroups({
        mx: async (domain) => {
          asked++;
          const answer = await lookup.mx(domain);
          if ('error' in answer) throw new Error(answer.error);
          return answer.records.map((r) => r.exchange);
        },
      });
      expect(await groups.groupOfAddress('a@workspace.test')).toBe('google');
      expect(await groups.groupOfAddress('b@workspace.test')).toBe('google');
      expect(await groups.groupOfAddress('c@m365.test')).toBe('microsoft');
      expect(await groups.groupOfAddress('d@nowhere.test')).toBe('nowhere.test');
      expect(await groups.groupOfAddress('e@gmail.com')).toBe('google');
      expect(asked).toBe(3);

      // A resolver that never answers: the domain is its own group after the timeout, not a stall.
      const slow = new ReceivingGroups({ mx: () => new Promise(() => {}), timeoutMs: 100 });
      const started = Date.now();
      expect(await slow.groupOfAddress('x@workspace.test')).toBe('workspace.test');
      expect(Date.now() - started).toBeLessThan(1_000);
      const failing = new ReceivingGroups({ mx: () => Promise.reject(new Error('SERVFAIL')) });
      expect(await failing.groupOfAddress('x@workspace.test')).toBe('workspace.test');
    } finally {
      await dns.stop();
    }
  });
});
