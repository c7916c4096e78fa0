import { describe, expect, it } from 'vitest';
import { campaignRef, CONFIRM_REF, returnPathFor } from '../../src/delivery/return-path.ts';
import { acceptRecipient } from '../../src/inbound/accept-recipient.ts';

const DOMAIN = 'bounces.news.example.org';
const CURRENT = 'current-secret-'.padEnd(40, 'c');
const PREVIOUS = 'previous-secret-'.padEnd(40, 'p');
const secrets = { current: CURRENT, previous: PREVIOUS };
const accept = (address: string) => acceptRecipient(address, { bounceDomain: DOMAIN, secrets });

describe('acceptRecipient', () => {
  it('takes our return paths (signed with the current or the previous secret, any case) and the unsubscribe mailbox', () => {
    const current = returnPathFor(CURRENT, DOMAIN, campaignRef('weekly--default'), 'AbCdEf');
    expect(accept(current)).toEqual({ ok: true, as: 'return-path' });
    expect(accept(current.toUpperCase())).toEqual({ ok: true, as: 'return-path' });
    expect(accept(returnPathFor(PREVIOUS, DOMAIN, CONFIRM_REF, 'AbCdEf'))).toEqual({ ok: true, as: 'return-path' });
    expect(accept(`unsubscribe@${DOMAIN}`)).toEqual({ ok: true, as: 'unsubscribe' });
    expect(accept('Unsubscribe@BOUNCES.news.example.ORG')).toEqual({ ok: true, as: 'unsubscribe' });
  });

  it('takes a return path of our shape with a wrong signature: the processor records it as unmatched', () => {
    const stranger = returnPathFor('someone-elses-secret-'.padEnd(40, 'x'), DOMAIN, campaignRef('weekly--default'), 'AbCdEf');
    expect(accept(stranger)).toEqual({ ok: true, as: 'return-path' });
  });

  it('refuses other domains as relaying (5.7.1), and other mailboxes of ours as unknown (5.1.1)', () => {
    for (const address of ['ann@example.org', `ann@sub.${DOMAIN}`, `ann@${DOMAIN}.example.net`, 'no-at-sign', `${DOMAIN}@example.org`, '']) {
      expect(accept(address), address).toEqual({ ok: false, reply: { code: 550, text: `5.7.1 relaying denied: this server takes mail for ${DOMAIN} only` } });
    }
    for (const address of [`postmaster@${DOMAIN}`, `bounce-test-x-y@${DOMAIN}`, `unsubscribe+x@${DOMAIN}`, `@${DOMAIN}`]) {
      expect(accept(address), address).toEqual({ ok: false, reply: { code: 550, text: '5.1.1 no such user here' } });
    }
  });
});
