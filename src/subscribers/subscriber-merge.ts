/**
 * How an input becomes a new subscriber or merges into an existing one. PURE.
 */
import type { ErrorLocation } from '../errors.ts';
import { normalizeEmail } from './email-address.ts';
import {
  DEFAULT_LIST,
  SUPPRESSED_STATUSES,
  cleanAttributes,
  cleanName,
  parseListName,
  parseStatus,
  type Subscriber,
  type SubscriberStatus,
} from './subscriber.ts';

export const HISTORY_LIMIT = 50;

export interface SubscriberInput {
  email: string;
  name?: string;
  /** Lists to join; a new subscriber with none joins DEFAULT_LIST. Existing lists are kept. */
  lists?: string[];
  /** Merged over existing attributes. */
  attributes?: Record<string, string>;
  /**
   * Status of a NEW subscriber (default `active`). An existing subscriber's status changes
   * here only toward suppression (an import can record an unsubscribe), never out of it.
   */
  status?: SubscriberStatus;
  /** Why, for the history (default `added`). */
  reason?: string;
}

declare const checked: unique symbol;
/** An input normalizeInput has validated: the store writes it without checking it again. */
export type NormalizedInput = SubscriberInput & { email: string; readonly [checked]: true };

/** Validates and normalises one input; throws NewsletterError naming the field (and `where`). */
export function normalizeInput(input: SubscriberInput, where: ErrorLocation = {}): NormalizedInput {
  return {
    email: normalizeEmail(input.email, where),
    name: cleanName(input.name, where),
    lists: input.lists?.map((list) => parseListName(list, where)),
    attributes: input.attributes && cleanAttributes(input.attributes, where),
    status: input.status && parseStatus(input.status, where),
    reason: input.reason,
  } as NormalizedInput;
}

export function createSubscriber(id: string, input: SubscriberInput & { email: string }, at: string): Subscriber {
  const status = input.status ?? 'active';
  const subscriber: Subscriber = {
    id,
    email: input.email,
    lists: [...new Set(input.lists?.length ? input.lists : [DEFAULT_LIST])],
    status,
    attributes: input.attributes ?? {},
    createdAt: at,
    updatedAt: at,
    history: [{ status, reason: input.reason ?? 'added', at }],
  };
  if (input.name) subscriber.name = input.name;
  return subscriber;
}

/** The merged record, or the very same object when nothing changes (status never does here). */
export function mergeSubscriber(current: Subscriber, input: SubscriberInput, at: string): Subscriber {
  const suppress = input.status !== undefined && SUPPRESSED_STATUSES.has(input.status) && !SUPPRESSED_STATUSES.has(current.status);
  const name = input.name ?? current.name;
  const lists = [...new Set([...current.lists, ...(input.lists ?? [])])];
  const attributes = { ...current.attributes, ...input.attributes };
  const same = !suppress && name === current.name && lists.length === current.lists.length && JSON.stringify(attributes) === JSON.stringify(current.attributes);
  if (same) return current;
  const next: Subscriber = { ...current, lists, attributes, updatedAt: at };
  if (name) next.name = name;
  if (suppress) {
    next.status = input.status!;
    next.history = [...current.history, { status: input.status!, reason: input.reason ?? 'added', at }].slice(-HISTORY_LIMIT);
  }
  return next;
}
