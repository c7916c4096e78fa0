/**
 * The rejected rows of an import, kept to a bounded size: a file of a million bad rows would
 * otherwise keep a million messages in memory (measured: 1 GiB of them took a web server to
 * gigabytes and an answer too large to send). The first rows by line are listed with their
 * message; every row is counted, by kind. PURE.
 */
import type { NewsletterError } from '../errors.ts';

/** Why a row was refused, as the report counts it; its message says the same for people, with the value. */
export type RejectionKind =
  | 'email-invalid'
  | 'name-invalid'
  | 'status-invalid'
  | 'list-invalid'
  | 'attribute-invalid'
  | 'field-count'
  | 'not-utf8'
  | 'quote-not-closed'
  | 'csv-malformed';

export interface RejectedRow {
  line: number;
  reason: string;
}

/** Enough to see what is wrong with a file and fix it; a report stays a few kilobytes of JSON. */
export const REJECTED_LISTED = 100;

/** The kind of a row check that failed in normalizeInput (subscriber-merge.ts). */
export function rejectionKind(error: NewsletterError): RejectionKind {
  if (error.code === 'SUBSCRIBER_EMAIL_INVALID') return 'email-invalid';
  switch (error.location.field) {
    case 'name':
      return 'name-invalid';
    case 'status':
      return 'status-invalid';
    case 'list':
      return 'list-invalid';
    default:
      // cleanAttributes's errors name no field: the attributes are the one check left.
      return 'attribute-invalid';
  }
}

export class Rejections {
  total = 0;
  private readonly listed: RejectedRow[] = [];
  private readonly byKind = new Map<RejectionKind, number>();

  constructor(private readonly limit = REJECTED_LISTED) {}

  add(line: number, kind: RejectionKind, reason: string): void {
    this.total++;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
    const { listed, limit } = this;
    if (listed.length >= limit) {
      if (limit === 0 || line >= listed[listed.length - 1]!.line) return;
      listed.pop();
    }
    // Rows come nearly in line order (csv-parse reports a malformed row as it parses, ahead of
    // the rows still waiting to be read), so this is almost always a push.
    let at = listed.length;
    while (at > 0 && listed[at - 1]!.line > line) at--;
    listed.splice(at, 0, { line, reason });
  }

  /** The first rows by line, and the counts by kind in a stable order. */
  report(): { rejected: RejectedRow[]; rejectedTotal: number; rejectedByKind: Partial<Record<RejectionKind, number>> } {
    const kinds = [...this.byKind].sort(([a], [b]) => a.localeCompare(b));
    return { rejected: [...this.listed], rejectedTotal: this.total, rejectedByKind: Object.fromEntries(kinds) };
  }
}
