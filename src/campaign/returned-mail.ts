/**
 * What came back by mail about a campaign's recipients after the server accepted their message
 * (src/inbound/ reads it), and how the campaign keeps it. PURE.
 *
 * - `hard`, `soft`: a bounce; `soft` counts towards the recipient's soft-bounce limit.
 * - `blocked`: a soft bounce about us, not the address (blocklist, spam filter, policy,
 *   authentication, rate limit): it never counts against the recipient; the operator looks at it.
 * - `delayed`: a delay warning (the message may still arrive): never counts either.
 * - `complained`: the reader marked it as spam (a feedback-loop report).
 * - `unsubscribed`: the reader unsubscribed by mail (the `mailto:` of List-Unsubscribe).
 *
 * A recipient counts at most once for each: processing the same message again, or a second
 * report about the same recipient, changes nothing. Bounces share one entry, and a worse one
 * replaces a milder one (soft then hard counts as hard only).
 */
export const RETURNED_KINDS = ['hard', 'soft', 'blocked', 'delayed', 'complained', 'unsubscribed'] as const;
export type ReturnedKind = (typeof RETURNED_KINDS)[number];
export type ReturnedCounts = Record<ReturnedKind, number>;

/** The bounce kinds, mildest first: a later entry of a higher rank replaces an earlier one. */
export const BOUNCE_RANKS: readonly ReturnedKind[] = ['blocked', 'soft', 'hard'];

/**
 * One letter per kind: the entries of a large campaign stay small. The letters are stored
 * data: changing one breaks campaigns written before.
 */
export const RETURNED_CODES: Readonly<Record<ReturnedKind, string>> = { hard: 'h', soft: 's', blocked: 'b', delayed: 'd', complained: 'c', unsubscribed: 'u' };

const KIND_OF_CODE = new Map(Object.entries(RETURNED_CODES).map(([kind, code]) => [code, kind as ReturnedKind]));

/** The campaign's counter of a kind, a field of its meta hash. */
export function returnedCounterField(kind: ReturnedKind): string {
  return `returned:${kind}`;
}

export function emptyReturnedCounts(): ReturnedCounts {
  return { hard: 0, soft: 0, blocked: 0, delayed: 0, complained: 0, unsubscribed: 0 };
}

export interface ReturnedEntry {
  kind: ReturnedKind;
  /** RFC 3463 status of a bounce (`5.1.1`), the feedback type of a complaint, or null. */
  status: string | null;
  /** What the server said (a bounce's diagnostic), or ''. */
  detail: string;
}

/** The field of a recipient's entry in the campaign's returned-mail hash: bounces share one. */
export function returnedField(subscriberId: string, kind: ReturnedKind): string {
  return BOUNCE_RANKS.includes(kind) ? subscriberId : `${subscriberId}:${RETURNED_CODES[kind]}`;
}

/** Details come from mail servers: one line, bounded. */
const MAX_DETAIL = 300;

export function encodeReturnedEntry({ kind, status, detail }: ReturnedEntry): string {
  const clean = (text: string, max: number) => text.replace(/[\r\n|]+/g, ' ').slice(0, max);
  return `${RETURNED_CODES[kind]}|${clean(status ?? '', 40)}|${clean(detail, MAX_DETAIL)}`;
}

/** Undefined for a value this module did not write. */
export function decodeReturnedEntry(field: string, value: string): (ReturnedEntry & { subscriberId: string }) | undefined {
  const [code = '', status = '', ...rest] = value.split('|');
  const kind = KIND_OF_CODE.get(code);
  if (!kind) return undefined;
  const colon = field.indexOf(':');
  return { subscriberId: colon < 0 ? field : field.slice(0, colon), kind, status: status || null, detail: rest.join('|') };
}

/**
 * Above this share of complaints per accepted message a campaign's status warns: Gmail calls
 * 0.1 % the level to stay under, and refuses bulk senders above 0.3 %.
 */
export const COMPLAINT_RATE_WARNING = 0.001;

/** Complaints per accepted message, 0 before anything was accepted. */
export function complaintRate(c: { accepted: number; returned: Pick<ReturnedCounts, 'complained'> }): number {
  return c.accepted > 0 ? c.returned.complained / c.accepted : 0;
}

/** `0.33 %` */
export function formatRate(rate: number): string {
  return `${(rate * 100).toFixed(2)} %`;
}

/** What a campaign's status warns about: a complaint rate past COMPLAINT_RATE_WARNING. */
export function returnedMailWarnings(c: { accepted: number; returned: Pick<ReturnedCounts, 'complained'> }): string[] {
  const rate = complaintRate(c);
  if (rate <= COMPLAINT_RATE_WARNING) return [];
  return [
    `complaints are ${formatRate(rate)} of accepted messages, above ${formatRate(COMPLAINT_RATE_WARNING)}: Gmail and Yahoo refuse bulk senders above 0.30 %; check who is on the list and how they joined`,
  ];
}

/** The bounces that came back by mail after the server accepted the message: `campaign failures` lists them. */
export const LATE_BOUNCE_KINDS: ReadonlySet<ReturnedKind> = new Set(['hard', 'soft', 'blocked', 'delayed']);
