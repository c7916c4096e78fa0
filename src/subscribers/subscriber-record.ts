/**
 * How a Subscriber is laid out in its Redis hash, and back. PURE.
 * Flat fields keep a record readable with `redis-cli HGETALL`; the lists, attributes and
 * history are JSON strings.
 */
import { isSubscriberStatus, type StatusChange, type Subscriber } from './subscriber.ts';

export function toFields(subscriber: Subscriber): string[] {
  const fields = [
    'id', subscriber.id,
    'email', subscriber.email,
    'name', subscriber.name ?? '',
    'status', subscriber.status,
    'lists', JSON.stringify(subscriber.lists),
    'attributes', JSON.stringify(subscriber.attributes),
    'createdAt', subscriber.createdAt,
    'updatedAt', subscriber.updatedAt,
    'history', JSON.stringify(subscriber.history),
  ];
  return fields;
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** A record plus its revision, as read from Redis; undefined for a missing or damaged hash. */
export function fromHash(hash: Record<string, string>): { subscriber: Subscriber; rev: string } | undefined {
  if (!hash.id || !hash.email || !hash.rev || !isSubscriberStatus(hash.status)) return undefined;
  const subscriber: Subscriber = {
    id: hash.id,
    email: hash.email,
    lists: parseJson<string[]>(hash.lists, []),
    status: hash.status,
    attributes: parseJson<Record<string, string>>(hash.attributes, {}),
    createdAt: hash.createdAt ?? '',
    updatedAt: hash.updatedAt ?? '',
    history: parseJson<StatusChange[]>(hash.history, []),
  };
  if (hash.name) subscriber.name = hash.name;
  return { subscriber, rev: hash.rev };
}
