/**
 * How a Subscriber is stored in Redis, and back. PURE.
 *
 * Layout 2: one field of a record bucket (subscriber-keys.ts) per subscriber,
 * `<rev>|<email>␟<name>␟<status>␟<created>␟<updated>␟<lists>␟<attributes>␟<history>` (␟ is
 * U+001F, which cleanName keeps out of names, and addresses and list names cannot hold):
 * - rev: the compare-and-set revision (store-scripts.ts);
 * - status: one letter (STATUS_CODES); times: milliseconds since 1970 in base 36, updated
 *   empty when it equals created;
 * - lists: names joined by commas (a list name has none);
 * - attributes: JSON, empty when there are none;
 * - history: empty when it is only the creation entry with reason "added", "i" when that
 *   reason is "imported" (nearly every subscriber), otherwise JSON [[status, reason, time]].
 * The id is not stored: it is the bucket field's number, or a layout-1 id kept beside it.
 * What costs memory is the record's length: this form is ~100 bytes for a subscriber with a
 * name and two attributes where layout 1's JSON was ~330.
 *
 * Layout 1 (`<rev>|<json>`, one string per subscriber) is still read while a store is moved.
 */
import { isSubscriberStatus, type StatusChange, type Subscriber, type SubscriberStatus } from './subscriber.ts';

const SEP = '\u001f';

const STATUS_CODES: Record<SubscriberStatus, string> = { pending: 'p', active: 'a', unsubscribed: 'u', bounced: 'b', complained: 'c' };
const STATUS_OF = new Map(Object.entries(STATUS_CODES).map(([status, code]) => [code, status as SubscriberStatus]));

/** Creation reasons common enough to be a letter (or nothing) instead of a JSON history. */
const ADDED = 'added';
const IMPORTED = 'imported';

const time = (iso: string): string => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? '' : ms.toString(36);
};
const iso = (text: string): string => (text ? new Date(parseInt(text, 36)).toISOString() : '');

function history(subscriber: Subscriber, created: string): string {
  const { history: entries, status } = subscriber;
  const [only] = entries;
  if (entries.length === 1 && only!.status === status && only!.at === subscriber.createdAt && time(only!.at) === created) {
    if (only!.reason === ADDED) return '';
    if (only!.reason === IMPORTED) return 'i';
  }
  return JSON.stringify(entries.map((e) => [STATUS_CODES[e.status], e.reason, time(e.at)]));
}

function readHistory(text: string, status: SubscriberStatus, createdAt: string): StatusChange[] | undefined {
  if (text === '' || text === 'i') return [{ status, reason: text === 'i' ? IMPORTED : ADDED, at: createdAt }];
  const entries = JSON.parse(text) as unknown;
  if (!Array.isArray(entries)) return undefined;
  const changes: StatusChange[] = [];
  for (const entry of entries as unknown[]) {
    if (!Array.isArray(entry)) return undefined;
    const [code, reason, at] = entry as unknown[];
    const changed = STATUS_OF.get(String(code));
    if (!changed || typeof reason !== 'string' || typeof at !== 'string') return undefined;
    changes.push({ status: changed, reason, at: iso(at) });
  }
  return changes;
}

/** The stored value of a subscriber at revision `rev`. */
export function recordValue(subscriber: Subscriber, rev: number): string {
  const { email, name = '', status, lists, attributes, createdAt, updatedAt } = subscriber;
  const created = time(createdAt);
  const updated = updatedAt === createdAt ? '' : time(updatedAt);
  const attributeText = Object.keys(attributes).length ? JSON.stringify(attributes) : '';
  return `${rev}|${[email, name, STATUS_CODES[status], created, updated, lists.join(','), attributeText, history(subscriber, created)].join(SEP)}`;
}

export interface StoredRecord {
  subscriber: Subscriber;
  rev: string;
}

/** A record (for subscriber `id`) plus its revision; undefined for a missing or damaged value. */
export function parseRecord(id: string, value: string | null | undefined): StoredRecord | undefined {
  if (!value) return undefined;
  const bar = value.indexOf('|');
  const rev = value.slice(0, bar);
  if (bar <= 0 || !/^\d+$/.test(rev)) return undefined;
  const fields = value.slice(bar + 1).split(SEP);
  if (fields.length !== 8) return undefined;
  const [email, name, code, created, updated, lists, attributes, historyText] = fields as [string, string, string, string, string, string, string, string];
  const status = STATUS_OF.get(code);
  if (!email || !status) return undefined;
  try {
    const createdAt = iso(created);
    const entries = readHistory(historyText, status, createdAt);
    if (!entries) return undefined;
    const subscriber: Subscriber = {
      id,
      email,
      lists: lists ? lists.split(',') : [],
      status,
      attributes: attributes ? (JSON.parse(attributes) as Record<string, string>) : {},
      createdAt,
      updatedAt: updated ? iso(updated) : createdAt,
      history: entries,
    };
    if (name) subscriber.name = name;
    return { subscriber, rev };
  } catch {
    return undefined;
  }
}

/** A subscriber as layout 1 stored it at revision `rev` (tests and bench:migrate build such stores). */
export function legacyRecordValue(subscriber: Subscriber, rev: number): string {
  const { id, email, name, status, lists, attributes, createdAt, updatedAt, history } = subscriber;
  return `${rev}|${JSON.stringify({ id, email, name, status, lists, attributes, createdAt, updatedAt, history })}`;
}

/** A layout-1 record, `<rev>|<json>`; undefined for a missing or damaged value. */
export function parseLegacyRecord(value: string | null | undefined): StoredRecord | undefined {
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
