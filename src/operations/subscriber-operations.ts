/**
 * What an operator can do with subscribers, once, for every edge: the CLI
 * (`subscribers ...`) and the admin API call these and only format the results.
 * Plain parameters in, plain JSON-able results (or streams) out, NewsletterError for
 * anything refused.
 */
import { pipeline, Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { NewsletterError } from '../errors.ts';
import type { UnsubscribeMetrics } from '../metrics/metric-tally.ts';
import { normalizeEmail } from '../subscribers/email-address.ts';
import { escapeFormula } from '../subscribers/formula-cells.ts';
import { importCsv, type ImportReport } from '../subscribers/import-csv.ts';
import {
  parseListName,
  parseStatus,
  SUBSCRIBER_STATUSES,
  SUPPRESSED_STATUSES,
  type Subscriber,
  type SubscriberFilter,
  type SubscriberStatus,
} from '../subscribers/subscriber.ts';
import type { AddResult, StatusResult, SubscriberStore } from '../subscribers/subscriber-store.ts';

/** An address, or a subscriber id (ids never contain "@"). */
export async function findSubscriber(store: SubscriberStore, ref: string, field = 'email'): Promise<Subscriber> {
  if (ref.includes('@')) {
    const email = normalizeEmail(ref, { field });
    const subscriber = await store.getByEmail(email);
    if (!subscriber) throw new NewsletterError('SUBSCRIBER_NOT_FOUND', `${email} is not a subscriber`, { field });
    return subscriber;
  }
  const subscriber = ref ? await store.get(ref) : undefined;
  if (!subscriber) throw new NewsletterError('SUBSCRIBER_NOT_FOUND', `no subscriber with id ${ref.slice(0, 80)}`, { field });
  return subscriber;
}

/** One subscriber (active), or a merge of name and list into an existing one; never changes a status. */
export function addSubscriber(store: SubscriberStore, input: { email: string; name?: string; list?: string; reason: string }): Promise<AddResult> {
  const list = input.list === undefined ? undefined : parseListName(input.list);
  return store.add({ email: input.email, name: input.name, lists: list ? [list] : undefined, reason: input.reason });
}

/** By hand, recorded in the history with the reason; `changed: false` when it already had it. */
/** A change to unsubscribed, bounced or complained counts as an `admin` unsubscribe in metrics. */
export async function setSubscriberStatus(
  store: SubscriberStore,
  ref: string,
  status: string,
  reason: string,
  metrics?: UnsubscribeMetrics,
): Promise<StatusResult> {
  const parsed = parseStatus(status);
  const subscriber = await findSubscriber(store, ref);
  const result = await store.setStatus(subscriber.id, parsed, reason);
  if (result.changed && SUPPRESSED_STATUSES.has(parsed)) metrics?.unsubscribed('admin');
  return result;
}

/** Erasure: the subscriber and its history are deleted. */
export async function removeSubscriber(store: SubscriberStore, ref: string): Promise<Subscriber> {
  const subscriber = await findSubscriber(store, ref);
  if (!(await store.remove(subscriber.id))) throw new NewsletterError('SUBSCRIBER_NOT_FOUND', `${subscriber.email} is not a subscriber`, { field: 'email' });
  return subscriber;
}

export async function countSubscribers(store: SubscriberStore, { list, status }: SubscriberFilter): Promise<number> {
  if (!status) return store.countList(list);
  let n = 0;
  for await (const batch of store.iterateSubscribers(list, 1000)) n += batch.filter((s) => s.status === status).length;
  return n;
}

export interface ListCounts {
  list: string;
  total: number;
  byStatus: Record<SubscriberStatus, number>;
}

/** Each list with its members by status (`active` is who a campaign to it would go to now): one pass over each list. */
export async function subscriberCounts(store: SubscriberStore): Promise<ListCounts[]> {
  const counts: ListCounts[] = [];
  for (const list of await store.listNames()) {
    const byStatus = Object.fromEntries(SUBSCRIBER_STATUSES.map((s) => [s, 0])) as Record<SubscriberStatus, number>;
    let total = 0;
    for await (const batch of store.iterateSubscribers(list, 1000)) {
      for (const subscriber of batch) byStatus[subscriber.status] += 1;
      total += batch.length;
    }
    counts.push({ list, total, byStatus });
  }
  return counts;
}

/** Every matching subscriber in join order, streamed: a million never sit in memory. */
export async function* selectSubscribers(store: SubscriberStore, { list, status }: SubscriberFilter): AsyncGenerator<Subscriber> {
  for await (const batch of store.iterateSubscribers(list, 1000)) {
    for (const subscriber of batch) if (!status || subscriber.status === status) yield subscriber;
  }
}

/**
 * One page in join order after the cursor `after` (0 to start); `next` is the cursor of
 * the following page, or null at the end. With a status filter a page may hold fewer than
 * `limit`: the page is cut from the list first, then filtered.
 */
export async function subscribersPage(
  store: SubscriberStore,
  filter: SubscriberFilter & { after?: number; limit?: number },
): Promise<{ subscribers: Subscriber[]; next: number | null }> {
  const page = await store.listPage(filter.list, filter.after ?? 0, filter.limit ?? 100);
  const subscribers = (await store.getMany(page.ids)).filter((s) => !filter.status || s.status === filter.status);
  return { subscribers, next: page.next ?? null };
}

/**
 * A CSV stream of subscribers: `email,name,status,lists,created_at,updated_at` then every
 * attribute name; lists joined by ";". `importSubscribersCsv` reads it back. A cell (header
 * included) that a spreadsheet would run as a formula gets a single quote in front, in a
 * quoted field (formula-cells.ts).
 */
export async function exportSubscribersCsv(store: SubscriberStore, filter: SubscriberFilter): Promise<Readable> {
  const attributes = await store.attributeNames();
  const columns = ['email', 'name', 'status', 'lists', 'created_at', 'updated_at', ...attributes];
  const row = (s: Subscriber) => [
    s.email,
    s.name ?? '',
    s.status,
    s.lists.join(';'),
    s.createdAt,
    s.updatedAt,
    ...attributes.map((name) => s.attributes[name] ?? ''),
  ];
  async function* rows() {
    for await (const s of selectSubscribers(store, filter)) yield row(s);
  }
  // pipeline: a reader that goes away stops the Redis reads; a Redis error ends the CSV with it.
  return pipeline(Readable.from(rows()), stringify({ header: true, columns, record_delimiter: 'windows', cast: { string: spreadsheetCell } }), () => {});
}

/** OWASP's rule is the quote in front and the field in double quotes, so the cell reads as one text value. */
function spreadsheetCell(value: string): string | { value: string; quoted: true } {
  const escaped = escapeFormula(value);
  return escaped === value ? value : { value: escaped, quoted: true };
}

/**
 * Streams a CSV into the store (see import-csv.ts for the rules): bad rows are reported by
 * line and skipped, good rows go in, importing the same file again changes nothing.
 */
export function importSubscribersCsv(
  store: SubscriberStore,
  input: Readable,
  options: { file: string; list?: string; onProgress?: (rows: number) => void },
): Promise<ImportReport> {
  const list = options.list === undefined ? undefined : parseListName(options.list);
  return importCsv(store, input, { file: options.file, list, onProgress: options.onProgress });
}

/**
 * An import's report as people read it, the same in the terminal and the console: a summary
 * line, one `file:line: reason` per listed bad row, and how many more were not listed.
 */
export function importReportLines(report: ImportReport, file: string): { summary: string; rejected: string[]; unlisted: string | undefined } {
  const kinds = Object.entries(report.rejectedByKind).map(([kind, count]) => `${kind} ${count}`);
  const summary =
    `imported ${report.imported}, updated ${report.updated}, unchanged ${report.unchanged}, rejected ${report.rejectedTotal}` +
    (kinds.length ? ` (${kinds.join(', ')})` : '');
  const more = report.rejectedTotal - report.rejected.length;
  return {
    summary,
    rejected: report.rejected.map(({ line, reason }) => `${file}:${line}: ${reason}`),
    unlisted: more > 0 ? `${file}: ${more.toLocaleString('en')} more rejected rows are not listed (the first ${report.rejected.length} are)` : undefined,
  };
}
