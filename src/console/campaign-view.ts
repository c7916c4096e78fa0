/**
 * A campaign as the console shows it and its JSON route returns: the state in the editor's
 * words, progress, counts, speed and time left. PURE: the time is passed in.
 */
import type { Campaign } from '../campaign/campaign.ts';
import { CONSOLE } from './console-document.ts';

export const campaignPath = (id: string) => `${CONSOLE}/campaigns/${encodeURIComponent(id)}`;

export interface CampaignView {
  id: string;
  subject: string;
  list: string;
  /** draft, scheduled, sending, paused, completed, cancelled (a state this version does not know is shown as it is). */
  state: string;
  /** Still moving: the page polls quickly. */
  active: boolean;
  total: number;
  settled: number;
  percent: number;
  accepted: number;
  failed: number;
  skipped: number;
  retrying: number;
  bounced: number;
  complained: number;
  /** Settled deliveries per second since the start, one decimal; "–" before the start. */
  rate: string;
  /** Time left at that rate: "3 min 20 s", "–" when unknown or done. */
  eta: string;
  /** As people read them, in UTC; '' when not yet. */
  createdAt: string;
  /** When a scheduled campaign starts (or started); '' when it was sent at once. */
  scheduledAt: string;
  startedAt: string;
  finishedAt: string;
}

export function stateLabel(state: string): string {
  return state === 'enqueuing' || state === 'running' ? 'sending' : state;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** `2026-12-05T02:09:58.308Z` -> `2026-12-05 02:09:58 UTC`; '' stays ''. */
export function formatTime(iso: string | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '';
}

export function campaignView(campaign: Campaign, now: Date): CampaignView {
  const settled = campaign.accepted + campaign.failed + campaign.skipped;
  const state = stateLabel(campaign.state);
  const started = campaign.startedAt ? Date.parse(campaign.startedAt) : undefined;
  const end = campaign.finishedAt ? Date.parse(campaign.finishedAt) : now.getTime();
  const seconds = started === undefined ? 0 : Math.max((end - started) / 1000, 0.001);
  const perSecond = started === undefined || settled === 0 ? undefined : settled / seconds;
  const left = campaign.total - settled;
  const returned = campaign.returned;
  return {
    id: campaign.id,
    subject: campaign.subject,
    list: campaign.list,
    state,
    // A scheduled campaign is watched as closely: its start shows within a second.
    active: state === 'sending' || state === 'scheduled',
    total: campaign.total,
    settled,
    percent: campaign.total === 0 ? (state === 'completed' ? 100 : 0) : Math.floor((settled / campaign.total) * 100),
    accepted: campaign.accepted,
    failed: campaign.failed,
    skipped: campaign.skipped,
    retrying: campaign.deferred,
    bounced: returned.hard + returned.soft + returned.blocked,
    complained: returned.complained,
    rate: perSecond === undefined ? '–' : perSecond.toFixed(1),
    eta: state !== 'sending' || perSecond === undefined || left <= 0 ? '–' : formatDuration(left / perSecond),
    createdAt: formatTime(campaign.createdAt),
    scheduledAt: formatTime(campaign.scheduledAt),
    startedAt: formatTime(campaign.startedAt),
    finishedAt: formatTime(campaign.finishedAt),
  };
}
