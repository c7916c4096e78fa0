/**
 * The subscriber record and the rules about it. PURE.
 */
import { NewsletterError, type ErrorLocation } from '../errors.ts';

export const SUBSCRIBER_STATUSES = ['pending', 'active', 'unsubscribed', 'bounced', 'complained'] as const;
export type SubscriberStatus = (typeof SUBSCRIBER_STATUSES)[number];

/** These never receive a campaign again, whatever list they are (re-)imported into, unless reactivated. */
export const SUPPRESSED_STATUSES: ReadonlySet<SubscriberStatus> = new Set(['unsubscribed', 'bounced', 'complained']);

/** The list a subscriber joins when none is named. */
export const DEFAULT_LIST = 'default';

export interface StatusChange {
  status: SubscriberStatus;
  reason: string;
  /** ISO 8601. */
  at: string;
}

export interface Subscriber {
  id: string;
  email: string;
  name?: string;
  lists: string[];
  status: SubscriberStatus;
  attributes: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  history: StatusChange[];
}

/** Only confirmed, unsuppressed subscribers receive campaigns. */
export function canReceive(subscriber: Pick<Subscriber, 'status'> | undefined): boolean {
  return subscriber?.status === 'active';
}

export function isSubscriberStatus(value: unknown): value is SubscriberStatus {
  return typeof value === 'string' && (SUBSCRIBER_STATUSES as readonly string[]).includes(value);
}

export function parseStatus(value: string, where: ErrorLocation = {}): SubscriberStatus {
  if (!isSubscriberStatus(value)) {
    throw new NewsletterError('INPUT_INVALID', `status "${String(value).slice(0, 40)}" is not one of ${SUBSCRIBER_STATUSES.join(', ')}`, {
      field: 'status',
      ...where,
    });
  }
  return value;
}

const LIST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A campaign's id is `<post slug>--<list>`, split at the last "--": a list name without "--"
 * keeps ids apart (post promo2--vip to list all, and post promo2 to list vip--all, would both
 * be promo2--vip--all).
 */
export const LIST_NAME_SEPARATOR = '--';

export function parseListName(value: string, where: ErrorLocation = {}): string {
  if (!LIST_NAME.test(value) || value.includes(LIST_NAME_SEPARATOR)) {
    throw new NewsletterError(
      'INPUT_INVALID',
      `list name "${value.slice(0, 80)}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit, without "--"`,
      { field: 'list', ...where },
    );
  }
  return value;
}

export interface SubscriberFilter {
  /** Every subscriber when undefined. */
  list?: string;
  /** Any status when undefined. */
  status?: SubscriberStatus;
}

/** Checks a filter's names (`fields` as the user wrote them: `--list` or `list`) before anything is read. */
export function parseFilter(filter: { list?: string; status?: string }, fields = { list: 'list', status: 'status' }): SubscriberFilter {
  return {
    list: filter.list === undefined ? undefined : parseListName(filter.list, { field: fields.list }),
    status: filter.status === undefined ? undefined : parseStatus(filter.status, { field: fields.status }),
  };
}

// Control characters in a name would end up in a From/To display name or an HTML page.
const CONTROL = /[\u0000-\u001f\u007f]+/g;
const HAS_CONTROL = /[\u0000-\u001f\u007f]/;

export function cleanName(value: string | undefined, where: ErrorLocation = {}): string | undefined {
  if (value === undefined) return undefined;
  const name = value.replace(CONTROL, ' ').trim();
  if (name.length > 200) throw new NewsletterError('INPUT_INVALID', 'name is longer than 200 characters', { field: 'name', ...where });
  return name || undefined;
}

export function cleanAttributes(value: Record<string, string> | undefined, where: ErrorLocation = {}): Record<string, string> {
  const entries = Object.entries(value ?? {});
  for (const [key, text] of entries) {
    if (!key || key.length > 64 || HAS_CONTROL.test(key)) {
      throw new NewsletterError('INPUT_INVALID', `attribute name "${key.slice(0, 80)}" must be 1-64 printable characters`, where);
    }
    if (typeof text !== 'string' || text.length > 2000) {
      throw new NewsletterError('INPUT_INVALID', `attribute "${key}" must be text of at most 2000 characters`, where);
    }
  }
  // fromEntries defines own properties, so a "__proto__" column cannot touch the prototype.
  return Object.fromEntries(entries);
}
