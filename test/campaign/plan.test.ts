import { describe, expect, it } from 'vitest';
import { batchJobId, campaignIdFor, chunk, planCampaign } from '../../src/campaign/plan.ts';
import { settledCount } from '../../src/campaign/campaign.ts';
import { isNewsletterError } from '../../src/errors.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';

describe('planCampaign', () => {
  it('derives the same campaign id from the same post and list, so a re-run cannot send twice', () => {
    const a = planCampaign({ issue: deliveryIssue, list: 'weekly', now: new Date(0), publicUrl: 'https://n.example/' });
    const b = planCampaign({ issue: deliveryIssue, list: 'weekly', now: new Date(1e12), publicUrl: 'https://n.example' });
    expect(a.campaign.id).toBe(b.campaign.id);
    expect(a.campaign).toMatchObject({ state: 'enqueuing', total: 0, list: 'weekly', subject: deliveryIssue.subject });
    expect(settledCount(a.campaign)).toBe(0);
    expect(a.snapshot.viewUrl).toBe('https://n.example/issues/sofa-weekly-2019-11-01');
    expect(a.snapshot.html).toBe(deliveryIssue.html);
  });

  it('names batch jobs deterministically, per round', () => {
    expect(batchJobId('c', 0, 3)).toBe('c-b3');
    expect(batchJobId('c', 2, 3)).toBe('c-r2-b3');
    expect(batchJobId('c', 0, 3)).not.toContain(':');
  });

  it('refuses a list name that cannot be part of an id', () => {
    let error: unknown;
    try {
      campaignIdFor('post', 'bad list');
    } catch (e) {
      error = e;
    }
    expect(isNewsletterError(error, 'INPUT_INVALID')).toBe(true);
  });

  it('gives two different campaigns two different ids, whatever "--" their post and list names hold', () => {
    expect(campaignIdFor('promo2--vip', 'all')).toBe('promo2--vip--all');
    expect(() => campaignIdFor('promo2', 'vip--all')).toThrow(/without "--"/);
    expect(campaignIdFor('promo2-', 'vip-all')).toBe('promo2---vip-all');
  });

  it('chunks ids into batches', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});
