/**
 * How a Subscriber is stored in Redis, and back. PURE.
 * One string per subscriber: `<rev>|<json>`. The revision makes every write a
 * compare-and-set (see store-scripts.ts); the JSON is readable with `redis-cli GET`.
 */
import { isSubscriberStatus, type Subscriber } from './subscriber.ts';

function serialize(subscriber: Subscriber): string {
  const { id, email, name, status, lists, attributes, createdAt, updatedAt, history } = subscriber;
  return JSON.stringify({ id, email, name, status, lists, attributes, createdAt, updatedAt, history });
}

/** The stored value of a subscriber at revision `rev`. */
export function recordValue(subscriber: Subscriber, rev: number): string {
  return `${rev}|${serialize(subscriber)}`;
}

/** A record plus its revision; undefined for a missing or damaged value. */
export function parseRecord(value: string | null | undefined): { subscriber: Subscriber; rev: string } | undefined {
  if (!value) return undefined;
  const bar = value.indexOf('|');
  const rev = value.slice(0, bar);
  if (bar <= 0 || !/^\d+$/.test(rev)) return undefined;
  let raw: Partial<Subscriber>;
  try {
    raw = JSON.parse(value.slice(bar + 1)) as Partial<Subscriber>;
  } catch {
    return undefined;
  }
  if (!raw.id || !raw.email || !isSubscriberStatus(raw.status)) return undefined;
  const subscriber: Subscriber = {
    id: raw.id,
    email: raw.email,
    lists: Array.isArray(raw.lists) ? raw.lists : [],
    status: raw.status,
    attributes: raw.attributes ?? {},
    createdAt: raw.createdAt ?? '',
    updatedAt: raw.updatedAt ?? '',
    history: Array.isArray(raw.history) ? raw.history : [],
  };
  if (raw.name) subscriber.name = raw.name;
  return { subscriber, rev };
}
