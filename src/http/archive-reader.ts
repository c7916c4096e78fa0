/**
 * Past issues for the public archive, read from the campaigns (read-only). Several
 * campaigns can carry one issue (one per list, or a re-render): the archive shows the
 * newest campaign's snapshot, dated by the first send. A campaign is shown once its first
 * message is accepted or once it completes (isPublished).
 */
import type { Campaign, IssueSnapshot } from '../campaign/campaign.ts';
import type { CampaignStore } from '../campaign/campaign-store.ts';

export interface ArchivedIssue {
  slug: string;
  subject: string;
  /** The campaign whose snapshot is shown (the newest one). */
  campaignId: string;
  /** ISO 8601: when the issue was first sent, and when it was last sent. */
  firstSentAt: string;
  lastSentAt: string;
}

export interface IssueArchiveOptions {
  campaigns: Pick<CampaignStore, 'list' | 'get' | 'getSnapshot'>;
  /** How many recent campaigns to look through. */
  depth?: number;
  /** How long the list may be reused; a lookup that misses always reads it again. */
  cacheMs?: number;
  now?: () => number;
}

/**
 * Public once someone has the issue in their mailbox (a message accepted), or once its
 * campaign is completed. A campaign still enqueuing, or running, paused or cancelled before
 * any message was accepted, has reached nobody: its "view in browser" page would be the
 * issue published ahead of the email.
 */
function isPublished(campaign: Campaign): boolean {
  return campaign.accepted > 0 || campaign.state === 'completed';
}

export class IssueArchive {
  private readonly campaigns: IssueArchiveOptions['campaigns'];
  private readonly depth: number;
  // Snapshots are written once and never change: keep the recent ones.
  private readonly snapshots = new Map<string, IssueSnapshot>();
  private readonly cacheMs: number;
  private readonly now: () => number;
  // Every reader of an issue hits /issues/:slug: one read of the campaign list serves them all for a moment.
  private cached: { at: number; issues: Promise<ArchivedIssue[]> } | undefined;

  constructor(options: IssueArchiveOptions) {
    this.campaigns = options.campaigns;
    this.depth = options.depth ?? 1000;
    this.cacheMs = options.cacheMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** Newest first (by first send). `fresh` reads again unless the list is under a second old (misses must stay cheap). */
  list({ fresh = false } = {}): Promise<ArchivedIssue[]> {
    const now = this.now();
    const age = this.cached ? now - this.cached.at : Infinity;
    if (age < (fresh ? Math.min(1_000, this.cacheMs) : this.cacheMs)) return this.cached!.issues;
    const issues = this.load();
    const entry = { at: now, issues };
    this.cached = entry;
    issues.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return issues;
  }

  private async load(): Promise<ArchivedIssue[]> {
    const bySlug = new Map<string, ArchivedIssue>();
    // The store lists newest first: the first campaign seen per slug is the newest.
    for (const campaign of await this.campaigns.list(this.depth)) {
      if (!isPublished(campaign)) continue;
      const seen = bySlug.get(campaign.slug);
      if (seen) seen.firstSentAt = campaign.createdAt;
      else
        bySlug.set(campaign.slug, {
          slug: campaign.slug,
          subject: campaign.subject,
          campaignId: campaign.id,
          firstSentAt: campaign.createdAt,
          lastSentAt: campaign.createdAt,
        });
    }
    return [...bySlug.values()].sort((a, b) => b.firstSentAt.localeCompare(a.firstSentAt) || a.slug.localeCompare(b.slug));
  }

  /** By slug (the public URL) or by campaign id. */
  async find(key: string): Promise<{ issue: ArchivedIssue; snapshot: IssueSnapshot } | undefined> {
    let issues = await this.list();
    // A campaign that started since the list was read is served at once.
    if (!issues.some((i) => i.slug === key)) issues = await this.list({ fresh: true });
    let issue = issues.find((i) => i.slug === key);
    let campaignId = issue?.campaignId;
    if (!issue) {
      // A campaign id shows that campaign's own snapshot, under the issue's public URL.
      const campaign = await this.campaigns.get(key);
      if (campaign && isPublished(campaign)) issue = issues.find((i) => i.slug === campaign.slug);
      campaignId = campaign?.id;
    }
    if (!issue || !campaignId) return undefined;
    const snapshot = await this.snapshot(campaignId);
    return snapshot && { issue, snapshot };
  }

  async snapshot(campaignId: string): Promise<IssueSnapshot | undefined> {
    const cached = this.snapshots.get(campaignId);
    if (cached) return cached;
    const snapshot = await this.campaigns.getSnapshot(campaignId);
    if (snapshot) {
      if (this.snapshots.size >= 100) this.snapshots.delete(this.snapshots.keys().next().value!);
      this.snapshots.set(campaignId, snapshot);
    }
    return snapshot;
  }
}
