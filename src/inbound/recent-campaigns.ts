/**
 * The newest campaigns, as returned mail needs them: which one a return path's campaign ref
 * names (campaignRef in src/delivery/return-path.ts is a hash, so it is found by hashing the
 * candidates), and which were sent to a subscriber. The ids and their refs are kept per process
 * and read again only when a campaign has been created since (one ZCARD tells).
 */
import type { CampaignStore } from '../campaign/campaign-store.ts';
import { campaignRef } from '../delivery/return-path.ts';

/** How far back a return path's campaign, and a subscriber's campaigns, are looked for. */
export const RECENT_CAMPAIGNS = 1_000;

/** Ledgers read together while looking for a subscriber's campaigns. */
const PAGE = 25;

type Campaigns = Pick<CampaignStore, 'recentIds' | 'count' | 'ledgerEntries'>;

export class RecentCampaigns {
  private ids: string[] = [];
  /** null: two recent campaigns share the ref, so it names neither. */
  private byRef = new Map<string, string | null>();
  private refs = new Map<string, string>();
  private known = -1;

  constructor(
    private readonly campaigns: Campaigns,
    private readonly limit = RECENT_CAMPAIGNS,
  ) {}

  /** The campaign a return path's ref names, among the recent ones; undefined when none (or two) do. */
  async byReturnPathRef(ref: string): Promise<string | undefined> {
    if (!this.byRef.has(ref)) await this.refresh();
    return this.byRef.get(ref) ?? undefined;
  }

  /**
   * The newest `count` campaigns that the server accepted a message of for this subscriber,
   * newest first: the ones a bounce can come back from. A skipped, failed or pending
   * recipient was not sent the campaign.
   */
  async acceptedFor(subscriberId: string, count: number): Promise<string[]> {
    await this.refresh();
    const ids = this.ids;
    const found: string[] = [];
    for (let first = 0; first < ids.length && found.length < count; first += PAGE) {
      const page = ids.slice(first, first + PAGE);
      const entries = await this.campaigns.ledgerEntries(page, subscriberId);
      page.forEach((id, i) => {
        if (entries[i]?.outcome === 'accepted' && found.length < count) found.push(id);
      });
    }
    return found;
  }

  private async refresh(): Promise<void> {
    const count = await this.campaigns.count();
    if (count === this.known) return;
    const ids = await this.campaigns.recentIds(this.limit);
    const refs = new Map<string, string>();
    const byRef = new Map<string, string | null>();
    for (const id of ids) {
      const ref = this.refs.get(id) ?? campaignRef(id);
      refs.set(id, ref);
      byRef.set(ref, byRef.has(ref) ? null : id);
    }
    this.ids = ids;
    this.refs = refs;
    this.byRef = byRef;
    this.known = count;
  }
}
