/**
 * Streams a CSV file of subscribers into the store in batches: a million rows never sit in
 * memory. The header row names the columns: `email` (required, any case), `name`, and
 * optionally `status` and `lists` (as written by export); every other column is kept as an
 * attribute. Bad rows are skipped and reported: the first ones with their line number,
 * every one in the counts by kind (import-rejections.ts); good rows go in. Re-importing the
 * same file changes nothing. A cell the export wrote with a single quote in front of a
 * formula character gets its value back (formula-cells.ts).
 */
import type { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { Parser } from 'csv-parse';
import { NewsletterError, isNewsletterError } from '../errors.ts';
import { unescapeFormula } from './formula-cells.ts';
import { REJECTED_LISTED, Rejections, rejectionKind, type RejectedRow, type RejectionKind } from './import-rejections.ts';
import { SUPPRESSED_STATUSES, parseStatus } from './subscriber.ts';
import { normalizeInput, type NormalizedInput, type SubscriberStore } from './subscriber-store.ts';

export interface ImportReport {
  imported: number;
  updated: number;
  unchanged: number;
  /** The first rejected rows by line (REJECTED_LISTED unless `rejectedListed`), each with its message. */
  rejected: RejectedRow[];
  /** Every rejected row, listed or not. */
  rejectedTotal: number;
  rejectedByKind: Partial<Record<RejectionKind, number>>;
}

export interface ImportOptions {
  /** Shown in errors (`file:line`). */
  file: string;
  /** Every row joins this list (besides any in a `lists` column). */
  list?: string;
  batchSize?: number;
  onProgress?: (rowsSeen: number) => void;
  /** How many rejected rows the report lists (default REJECTED_LISTED); all are counted. */
  rejectedListed?: number;
}

// Export writes these; they describe the record rather than being attributes of it.
const RECORD_COLUMNS = new Set(['id', 'created_at', 'updated_at', 'createdat', 'updatedat']);

interface Columns {
  email: number;
  name: number;
  status: number;
  lists: number;
  attributes: { index: number; name: string }[];
  count: number;
}

function readHeader(header: string[], file: string): Columns {
  // UTF-16 without a byte order mark reads as NUL-separated bytes (with one, csv-parse decodes it).
  if (header.some((name) => /[\u0000\uFFFD]/.test(name))) {
    throw new NewsletterError('IMPORT_FILE_INVALID', 'the file is not UTF-8 (UTF-16 or another encoding?): save it as UTF-8', { file, line: 1 });
  }
  const names = header.map((h) => unescapeFormula(h.trim()));
  const lower = names.map((name) => name.toLowerCase());
  const seen = new Set<string>();
  for (const [i, name] of lower.entries()) {
    if (!name) throw new NewsletterError('IMPORT_FILE_INVALID', `column ${i + 1} of the header row has no name`, { file, line: 1 });
    if (seen.has(name)) throw new NewsletterError('IMPORT_FILE_INVALID', `the header row names "${name}" twice`, { file, line: 1 });
    seen.add(name);
  }
  const email = lower.indexOf('email');
  if (email < 0) {
    throw new NewsletterError('IMPORT_FILE_INVALID', 'the header row has no "email" column', { file, line: 1 });
  }
  const known = new Set(['email', 'name', 'status', 'lists']);
  return {
    email,
    name: lower.indexOf('name'),
    status: lower.indexOf('status'),
    lists: lower.indexOf('lists'),
    attributes: names.map((name, index) => ({ index, name })).filter(({ index }) => !known.has(lower[index]!) && !RECORD_COLUMNS.has(lower[index]!)),
    count: header.length,
  };
}

/** A row refused by the import's own checks, before normalizeInput's. */
class RowRejected extends NewsletterError {
  constructor(
    readonly kind: RejectionKind,
    message: string,
    line: number,
  ) {
    super('INPUT_INVALID', message, { line });
  }
}

/** One row to an input; throws NewsletterError with the reason. */
function readRow(row: string[], columns: Columns, list: string | undefined, line: number): NormalizedInput {
  if (row.length !== columns.count) {
    throw new RowRejected('field-count', `has ${row.length} fields, the header has ${columns.count}`, line);
  }
  if (row.some((field) => field.includes('\uFFFD'))) {
    throw new RowRejected('not-utf8', 'is not valid UTF-8 (save the file as UTF-8)', line);
  }
  const cell = (index: number) => (index >= 0 ? unescapeFormula(row[index]!.trim()) : '');
  const statusCell = cell(columns.status).toLowerCase();
  const status = statusCell ? parseStatus(statusCell, { line }) : undefined;
  const lists = cell(columns.lists)
    .split(/[;|]/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (list) lists.push(list);
  const attributes: Record<string, string> = {};
  for (const { index, name } of columns.attributes) {
    const value = cell(index);
    if (value) attributes[name] = value;
  }
  return normalizeInput(
    {
      email: cell(columns.email),
      name: cell(columns.name) || undefined,
      lists: lists.length ? lists : undefined,
      attributes,
      status,
      reason: status && SUPPRESSED_STATUSES.has(status) ? `imported as ${status}` : 'imported',
    },
    { line },
  );
}

/** A row and the line it ended on. */
interface ParsedRecord {
  record: string[];
  lines: number;
}

/**
 * csv-parse's parser, yielding each row with the line it ended on and remembering where the
 * last row ended. Both are read from the parser's running counters as the row is pushed:
 * asking csv-parse for a context per row (info: true or on_record) built an object a row,
 * ~2.5 us, a tenth of an import's time.
 */
class RowParser extends Parser {
  endedLines = 0;
  endedEmptyLines = 0;

  override push(record: unknown, encoding?: BufferEncoding): boolean {
    if (record === null) return super.push(record, encoding);
    this.endedLines = this.info.lines;
    this.endedEmptyLines = this.info.empty_lines;
    return super.push({ record: record as string[], lines: this.info.lines } satisfies ParsedRecord);
  }
}

/** Line of the record's first physical line: csv-parse reports the last one. */
function startLine(row: string[], endLine: number): number {
  return endLine - row.reduce((n, field) => n + (field.match(/\n/g)?.length ?? 0), 0);
}

/** Rows parsed between pauses that let a reply from Redis in. */
const YIELD_EVERY = 50;

export async function importCsv(store: SubscriberStore, input: Readable, options: ImportOptions): Promise<ImportReport> {
  const { file, list, batchSize = 500, onProgress, rejectedListed = REJECTED_LISTED } = options;
  const counts = { imported: 0, updated: 0, unchanged: 0 };
  const rejections = new Rejections(rejectedListed);
  const parser = input.pipe(
    // Every line ending, not just the first one seen: files pasted together from Windows and
    // Unix tools mix them, and auto-detection would glue the other kind's lines into one record.
    new RowParser({
      bom: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
    }),
  );
  input.on('error', (cause) => parser.destroy(new NewsletterError('IMPORT_FILE_INVALID', 'cannot read the file', { file, cause })));
  parser.on('skip', (error: Error & { lines?: number; code?: string; empty_lines?: number }) => {
    if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
      // A quote never closed swallows the rest of the file and csv-parse reports the file's
      // last line; the quote opened on the first non-empty line after the last row.
      const line = parser.endedLines + (error.empty_lines ?? parser.endedEmptyLines) - parser.endedEmptyLines + 1;
      rejections.add(line, 'quote-not-closed', 'a quote opened here is never closed; the rest of the file was not read');
    } else {
      rejections.add(error.lines ?? 0, 'csv-malformed', error.message);
    }
  });
  let columns: Columns | undefined;
  let batch: NormalizedInput[] = [];
  let rows = 0;
  // After a batch of (nearly) all new addresses, the next is written without reading first;
  // the few rows whose address exists are then read and merged by the store.
  let mostlyNew = false;
  const write = async (inputs: NormalizedInput[], rowsSeen: number, createFirst: boolean, after: Promise<void> | undefined) => {
    const results = await store.addNormalized(inputs, { createFirst, after });
    let created = 0;
    for (const result of results) {
      if (result.created) created++;
      else if (result.updated) counts.updated++;
      else counts.unchanged++;
    }
    counts.imported += created;
    mostlyNew = created >= inputs.length * 0.9;
    onProgress?.(rowsSeen);
  };
  // One batch is written while the next one is parsed, so Node and Redis work at the same
  // time, and rows reach their subscribers in file order (see AddOptions). Two batches of
  // new addresses in a row may both be in Redis's queue: the second is sent without waiting.
  let writing: Promise<void> | undefined;
  let before: Promise<void> | undefined;
  let wroteFirst = false;
  const flush = async () => {
    if (batch.length === 0) return;
    const createFirst = mostlyNew;
    if (!(createFirst && wroteFirst)) await writing;
    await before;
    before = writing;
    writing = write(batch, rows, createFirst, before);
    writing.catch(() => {}); // not unhandled meanwhile: a later flush or the end awaits it
    wroteFirst = createFirst;
    batch = [];
  };
  try {
    for await (const { record, lines } of parser as AsyncIterable<ParsedRecord>) {
      const line = startLine(record, lines);
      if (!columns) {
        columns = readHeader(record, file);
        continue;
      }
      rows++;
      try {
        batch.push(readRow(record, columns, list, line));
      } catch (error) {
        if (!isNewsletterError(error)) throw error;
        rejections.add(line, error instanceof RowRejected ? error.kind : rejectionKind(error), error.message);
      }
      if (batch.length >= batchSize) await flush();
      // Parsed rows come as microtasks, which never let a Redis reply in: without a pause now
      // and then, the write in flight would wait for the parser to empty its buffer.
      else if (writing && rows % YIELD_EVERY === 0) await setImmediate();
    }
    if (!columns) throw new NewsletterError('IMPORT_FILE_INVALID', 'the file is empty: it needs a header row with an "email" column', { file });
    await flush();
    await writing;
  } finally {
    // After a failure too: no write may still run once the caller closes the connection.
    await writing?.catch(() => {});
  }
  return { ...counts, ...rejections.report() };
}
