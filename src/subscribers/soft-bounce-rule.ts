/**
 * When soft bounces make a subscriber `bounced`. PURE.
 *
 * A mailbox that is full or disabled once is not dead; one that keeps failing is. So a
 * subscriber becomes bounced after `limit` soft bounces (SOFT_BOUNCE_LIMIT, 3) within the last
 * `window` campaigns sent to them (SOFT_BOUNCE_WINDOW, 5), counting each campaign once. The
 * window is made of the campaigns sent to them, not of calendar time or of campaigns in a
 * row: a campaign that arrived in between does not wipe the count (a mailbox that is full
 * most weeks still ends bounced), and one that was never sent to them (another list) does not
 * push a bounce out of the window. Soft bounces about us (blocklists, policy) and delay
 * warnings never reach this rule. A subscriber set `active` again starts from zero: soft
 * bounces recorded before that do not count.
 */
export interface SoftBounceHistory {
  /** Ids of the campaigns sent to the subscriber, newest first, at most `window` of them. */
  recent: readonly string[];
  /** Campaign id -> when a soft bounce from it was recorded (ISO 8601). */
  softBounces: ReadonlyMap<string, string>;
  /** When the subscriber last became `active` (ISO 8601), if ever. */
  activeSince: string | undefined;
  limit: number;
  window: number;
}

export interface SoftBounceJudgement {
  /** The campaigns of the window with a soft bounce that counts, newest first. */
  counted: string[];
  /** The limit is reached: the subscriber becomes bounced. */
  reached: boolean;
  /** Recorded campaigns outside a full window: they can never count again. */
  stale: string[];
}

export function judgeSoftBounces({ recent, softBounces, activeSince, limit, window }: SoftBounceHistory): SoftBounceJudgement {
  const inWindow = recent.slice(0, window);
  const counted = inWindow.filter((id) => {
    const at = softBounces.get(id);
    return at !== undefined && (activeSince === undefined || at >= activeSince);
  });
  // Only a full window says that what lies outside it is older: with fewer campaigns known, keep everything.
  const stale = inWindow.length === window ? [...softBounces.keys()].filter((id) => !inWindow.includes(id)) : [];
  return { counted, reached: counted.length >= limit, stale };
}

/** When a subscriber last became active: the newest `active` entry of their history. */
export function activeSince(history: readonly { status: string; at: string }[]): string | undefined {
  for (let i = history.length - 1; i >= 0; i--) if (history[i]!.status === 'active') return history[i]!.at;
  return undefined;
}
