/**
 * A file of many bad rows must not grow the import's memory with every one: the report lists
 * the first rejected rows (by line) and counts all of them, by kind.
 */
import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importCsv, type ImportReport } from '../../src/subscribers/import-csv.ts';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';

let redis: Redis;
let cleanup: () => Promise<void>;
let store: SubscriberStore;

beforeEach(async () => {
  const prefix = uniquePrefix('import-bound');
  ({ redis, cleanup } = await connectTestRedis(prefix));
  store = new SubscriberStore({ redis, prefix });
});
afterEach(async () => {
  await cleanup();
});

const HEADER = 'email,name,status,lists,Plan';

/** One bad row of each kind the report counts, for row number `i`. */
const BAD_ROWS: [kind: string, row: (i: number) => string][] = [
  ['email-invalid', (i) => `not-an-address-${i},Bad ${i},,,`],
  ['field-count', (i) => `fields${i}@example.com,Bad ${i},,,,extra`],
  ['status-invalid', (i) => `status${i}@example.com,Bad ${i},vanished,,`],
  ['list-invalid', (i) => `list${i}@example.com,Bad ${i},,no spaces allowed,`],
  ['name-invalid', (i) => `name${i}@example.com,${'n'.repeat(201)},,,`],
  ['attribute-invalid', (i) => `plan${i}@example.com,Bad ${i},,,${'p'.repeat(2001)}`],
];

/**
 * Two good rows, `bad` bad rows cycling through BAD_ROWS, two rows that are not UTF-8, two more
 * good rows, and a quote never closed at the end. Returns the file and the expected counts.
 */
function manyBadRows(bad: number): { csv: Buffer; lines: number[]; byKind: Record<string, number> } {
  const parts: Buffer[] = [Buffer.from(`${HEADER}\ngood1@example.com,Good 1,,,\ngood2@example.com,Good 2,,,\n`)];
  const lines: number[] = [];
  const byKind: Record<string, number> = {};
  let line = 3;
  for (let i = 0; i < bad; i++) {
    const [kind, row] = BAD_ROWS[i % BAD_ROWS.length]!;
    parts.push(Buffer.from(`${row(i)}\n`));
    lines.push(++line);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  for (const name of ['José', 'Zoë']) {
    parts.push(Buffer.from(`latin${line}@example.com,${name},,,\n`, 'latin1'));
    lines.push(++line);
  }
  byKind['not-utf8'] = 2;
  parts.push(Buffer.from('good3@example.com,Good 3,,,\ngood4@example.com,Good 4,,,\n'));
  line += 2;
  parts.push(Buffer.from('open@example.com,"never closed,,,\ngood5@example.com,Good 5,,,\n'));
  lines.push(line + 1);
  byKind['quote-not-closed'] = 1;
  return { csv: Buffer.concat(parts), lines, byKind };
}

describe('the import report of a file with thousands of bad rows', () => {
  it('lists the first N rejected rows by line, counts every one by kind, and imports the good rows', async () => {
    const { csv, lines, byKind } = manyBadRows(3000);
    const report: ImportReport = await importCsv(store, Readable.from([csv]), { file: 'many.csv', batchSize: 50, rejectedListed: 7 });
    expect(report.imported).toBe(4);
    expect(await store.countList()).toBe(4);
    expect(report.rejected.map((r) => r.line)).toEqual(lines.slice(0, 7));
    expect(report.rejected[0]).toEqual({ line: 4, reason: expect.stringMatching(/"not-an-address-0" is not a valid email address/) });
    expect(report.rejected[1]).toEqual({ line: 5, reason: 'has 6 fields, the header has 5' });
    expect(report.rejectedTotal).toBe(3003);
    expect(report.rejectedByKind).toEqual(byKind);
    expect(Object.values(report.rejectedByKind).reduce((a, b) => a + b, 0)).toBe(report.rejectedTotal);
    // Small whatever the file: the listed rows and one count per kind.
    expect(JSON.stringify(report).length).toBeLessThan(2000);
  });

  it('lists 100 rows unless told otherwise', async () => {
    const { csv } = manyBadRows(600);
    const report = await importCsv(store, Readable.from([csv]), { file: 'many.csv' });
    expect(report.rejected).toHaveLength(100);
    expect(report.rejectedTotal).toBe(603);
  });

  it('lists every rejected row when there are fewer than N, and a clean file has empty counts', async () => {
    const { csv, lines } = manyBadRows(5);
    const report = await importCsv(store, Readable.from([csv]), { file: 'few.csv', rejectedListed: 10 });
    expect(report.rejected.map((r) => r.line)).toEqual(lines);
    expect(report.rejectedTotal).toBe(8);
    const clean = await importCsv(store, Readable.from([`${HEADER}\nclean@example.com,Clean,,,\n`]), { file: 'clean.csv' });
    expect(clean).toEqual({ imported: 1, updated: 0, unchanged: 0, rejected: [], rejectedTotal: 0, rejectedByKind: {} });
  });
});
