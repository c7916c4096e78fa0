import { describe, expect, it } from 'vitest';
import { campaignRef, CONFIRM_REF, readReturnPath, returnPathFor, TEST_REF } from '../../src/delivery/return-path.ts';

const SECRET = 'return-path-test-secret-'.padEnd(48, 'r');
const DOMAIN = 'bounces.news.example.com';

describe('the return path (VERP)', () => {
  it('names the campaign and the subscriber, fits a local part, and reads back whatever case a relay gives it', () => {
    // A number id (layout 2) and a 16-character random one (kept from layout 1).
    for (const id of ['1048577', 'q3Zx_9-kLm0PaB7w']) {
      const ref = campaignRef('sofa-weekly-2019-11-01--weekly');
      const address = returnPathFor(SECRET, DOMAIN, ref, id);
      expect(address).toMatch(/^bounce-[a-z2-7]{8}-[a-z2-7]+-[a-z2-7]{10}@bounces\.news\.example\.com$/);
      expect(address.split('@')[0]!.length).toBeLessThanOrEqual(64);
      expect(readReturnPath({ current: SECRET }, address, DOMAIN)).toEqual({ ok: true, ref, subscriberId: id });
      expect(readReturnPath({ current: SECRET }, address.toUpperCase(), DOMAIN)).toEqual({ ok: true, ref, subscriberId: id });
      for (const special of [TEST_REF, CONFIRM_REF]) {
        expect(readReturnPath({ current: SECRET }, returnPathFor(SECRET, DOMAIN, special, id), DOMAIN)).toMatchObject({ ok: true, ref: special });
      }
    }
  });

  it('keeps working for the previous secret after a rotation', () => {
    const address = returnPathFor(SECRET, DOMAIN, campaignRef('c'), 'abc');
    expect(readReturnPath({ current: 'new-secret-'.padEnd(40, 'n'), previous: SECRET }, address, DOMAIN)).toMatchObject({ ok: true, subscriberId: 'abc' });
  });

  it('refuses a forged or altered address: another subscriber, another campaign, another secret', () => {
    const address = returnPathFor(SECRET, DOMAIN, campaignRef('c'), 'victim-id');
    const [local] = address.split('@') as [string];
    const parts = local.split('-');
    const otherSubscriber = [parts[0], parts[1], returnPathFor(SECRET, DOMAIN, campaignRef('c'), 'other').split('-')[2], parts[3]].join('-');
    expect(readReturnPath({ current: SECRET }, `${otherSubscriber}@${DOMAIN}`, DOMAIN)).toEqual({ ok: false, why: 'forged' });
    const otherCampaign = [parts[0], campaignRef('d'), parts[2], parts[3]].join('-');
    expect(readReturnPath({ current: SECRET }, `${otherCampaign}@${DOMAIN}`, DOMAIN)).toEqual({ ok: false, why: 'forged' });
    expect(readReturnPath({ current: 'another-secret-'.padEnd(40, 'a') }, address, DOMAIN)).toEqual({ ok: false, why: 'forged' });
  });

  it('is not fooled by addresses of other shapes or domains', () => {
    const address = returnPathFor(SECRET, DOMAIN, campaignRef('c'), 'abc');
    expect(readReturnPath({ current: SECRET }, address.replace(DOMAIN, 'evil.example'), DOMAIN)).toEqual({ ok: false, why: 'not a return path' });
    for (const other of ['postmaster@' + DOMAIN, 'bounce-@' + DOMAIN, 'bounce-aaaaaaaa-1-aaaaaaaaaa@' + DOMAIN, 'no-at-sign', '']) {
      expect(readReturnPath({ current: SECRET }, other, DOMAIN).ok, other).toBe(false);
    }
  });
});
