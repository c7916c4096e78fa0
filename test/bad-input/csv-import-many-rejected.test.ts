/**
 * A CSV of thousands of bad rows through `newsletter subscribers import` and the admin API:
 * the good rows go in, and the report stays small, listing the first 100 rejected rows with
 * their lines and counting all of them by kind. (A 1 GiB file of them: bench/import-memory.bench.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../helpers/admin-server.ts';
import { errorLines, openWorld, type World } from './harness.ts';

/** 3,000 bad rows of three kinds between good rows, in the order the lines come. */
function manyBadRows(): { csv: string; byKind: Record<string, number>; good: string[] } {
  const rows = ['email,name,status', 'first@example.com,First,active'];
  for (let i = 0; i < 3000; i++) {
    if (i % 3 === 0) rows.push(`not-an-address-${i},Bad ${i},active`);
    else if (i % 3 === 1) rows.push(`extra${i}@example.com,Bad ${i},active,extra`);
    else rows.push(`status${i}@example.com,Bad ${i},vanished`);
  }
  rows.push('last@example.com,Last,active', '');
  return {
    csv: rows.join('\n'),
    byKind: { 'email-invalid': 1000, 'field-count': 1000, 'status-invalid': 1000 },
    good: ['first@example.com', 'last@example.com'],
  };
}

interface Report {
  imported: number;
  rejected: { line: number; reason: string }[];
  rejectedTotal: number;
  rejectedByKind: Record<string, number>;
}

/** The first 100 rejected rows: lines 3 to 102, each with its own reason. */
function expectFirstHundred(report: Report): void {
  expect(report.rejected.map((r) => r.line)).toEqual(Array.from({ length: 100 }, (_, i) => i + 3));
  expect(report.rejected[0]!.reason).toMatch(/^"not-an-address-0" is not a valid email address/);
  expect(report.rejected[1]!.reason).toBe('has 4 fields, the header has 3');
  expect(report.rejected[2]!.reason).toMatch(/^status "vanished" is not one of/);
}

describe('newsletter subscribers import, 3,000 bad rows', () => {
  let world: World;
  beforeAll(async () => {
    world = await openWorld('many-rejected');
  });
  afterAll(() => world?.close());

  it('--json: the first 100 rejected rows, the total, counts by kind; the good rows imported; exit 1', async () => {
    const { csv, byKind, good } = manyBadRows();
    const file = world.scratch.write('many.csv', csv);
    const result = await world.cli(['subscribers', 'import', file, '--list', 'weekly', '--json']);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(Object.keys(report)).toEqual(['imported', 'updated', 'unchanged', 'rejected', 'rejectedTotal', 'rejectedByKind']);
    expect(report).toMatchObject({ imported: 2, rejectedTotal: 3000, rejectedByKind: byKind });
    expectFirstHundred(report);
    for (const email of good) expect(await world.store.getByEmail(email), email).toBeDefined();

    const lines = errorLines(result);
    expect(lines).toHaveLength(101);
    expect(lines[0]).toBe(`${file}:3: ${report.rejected[0]!.reason}`);
    expect(lines[99]).toBe(`${file}:102: ${report.rejected[99]!.reason}`);
    expect(lines[100]).toBe(`${file}: 2,900 more rejected rows are not listed (the first 100 are)`);
  });

  it('as text: the same report, with the counts by kind after the totals', async () => {
    const file = world.scratch.write('many-text.csv', manyBadRows().csv);
    const result = await world.cli(['subscribers', 'import', file, '--list', 'weekly']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toBe('imported 0, updated 0, unchanged 2, rejected 3000 (email-invalid 1000, field-count 1000, status-invalid 1000)\n');
    expect(errorLines(result)).toHaveLength(101);
  });
});

describe('POST /api/subscribers/import, 3,000 bad rows', () => {
  let admin: AdminServer;
  beforeAll(async () => {
    admin = await startAdminServer();
  });
  afterAll(() => admin?.close());

  it('answers 200 with the same bounded report, and imports the good rows', async () => {
    const { csv, byKind, good } = manyBadRows();
    const response = await admin.call('POST', '/api/subscribers/import?list=weekly', { body: csv, type: 'text/csv' });
    expect(response.status).toBe(200);
    const text = await response.text();
    const report = JSON.parse(text) as Report;
    expect(Object.keys(report)).toEqual(['ok', 'imported', 'updated', 'unchanged', 'rejected', 'rejectedTotal', 'rejectedByKind']);
    expect(report).toMatchObject({ ok: true, imported: 2, rejectedTotal: 3000, rejectedByKind: byKind });
    expectFirstHundred(report);
    expect(text.length).toBeLessThan(16 * 1024);
    for (const email of good) expect(await admin.harness.app.subscribers.getByEmail(email), email).toBeDefined();
  });
});
