import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNewsletterError } from '../../src/errors.ts';
import { importCsv } from '../../src/subscribers/import-csv.ts';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/subscribers/${name}`, import.meta.url));

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;
let store: SubscriberStore;

beforeEach(async () => {
  prefix = uniquePrefix('import');
  ({ redis, cleanup } = await connectTestRedis(prefix));
  store = new SubscriberStore({ redis, prefix });
});
afterEach(async () => {
  await cleanup();
});

const importFile = (name: string, list?: string) => importCsv(store, createReadStream(fixture(name)), { file: name, list, batchSize: 2 });

describe('importCsv', () => {
  it('reads BOM, CRLF, quoted commas and quotes, multi-line fields and UTF-8 names', async () => {
    const report = await importFile('good.csv', 'weekly');
    expect(report).toEqual({ imported: 4, updated: 0, unchanged: 0, rejected: [], rejectedTotal: 0, rejectedByKind: {} });
    expect(await store.getByEmail('zoë.müller@example.de')).toMatchObject({
      email: 'Zoë.Müller@example.de',
      name: 'Müller, Zoë',
      lists: ['weekly'],
      status: 'active',
      attributes: { City: 'Köln', Plan: 'pro' },
    });
    expect(await store.getByEmail('li.wei@example.cn')).toMatchObject({ name: '李伟', attributes: { City: '杭州' } });
    expect((await store.getByEmail('quoted@example.com'))?.name).toBe('Smith, "Jo"');
    // A line break in a name would end up in a To: header or a page; it becomes a space.
    expect((await store.getByEmail('multi@example.com'))?.name).toBe('Two Lines');
  });

  it('changes nothing at all when the same file is imported again', async () => {
    await importFile('good.csv', 'weekly');
    const before = await dumpKeys(redis, prefix);
    const again = await importFile('good.csv', 'weekly');
    expect(again).toEqual({ imported: 0, updated: 0, unchanged: 4, rejected: [], rejectedTotal: 0, rejectedByKind: {} });
    expect(await dumpKeys(redis, prefix)).toEqual(before);
  });

  it('reports bad rows with their line and reason, and imports the good ones', async () => {
    const report = await importFile('bad-rows.csv');
    expect(report.imported).toBe(2);
    expect(report.rejected.map((r) => r.line)).toEqual([3, 4, 5]);
    expect(report.rejected[0]!.reason).toMatch(/not-an-address.*not a valid email address/);
    expect(report.rejected[1]!.reason).toMatch(/3 fields, the header has 2/);
    expect(report.rejected[2]!.reason).toMatch(/not a valid email address/);
    expect(await store.countList()).toBe(2);
  });

  it('rejects rows that are not UTF-8 instead of storing mangled names', async () => {
    const report = await importFile('latin1.csv');
    expect(report.rejected).toEqual([{ line: 2, reason: expect.stringMatching(/UTF-8/) }]);
    expect(await dumpKeys(redis, prefix)).toEqual({});
  });

  it('refuses a file without an email column, naming the file and line, and writes nothing', async () => {
    const error = await importFile('no-email-header.csv').catch((e: unknown) => e);
    expect(isNewsletterError(error, 'IMPORT_FILE_INVALID')).toBe(true);
    expect((error as { toOneLine(): string }).toOneLine()).toMatch(/^no-email-header\.csv:1: .*email/);
    expect(await dumpKeys(redis, prefix)).toEqual({});
  });

  it('refuses an empty file', async () => {
    const error = await importCsv(store, Readable.from(['']), { file: 'empty.csv' }).catch((e: unknown) => e);
    expect(isNewsletterError(error, 'IMPORT_FILE_INVALID')).toBe(true);
    expect(await dumpKeys(redis, prefix)).toEqual({});
  });

  it('reports an unclosed quote with a line number', async () => {
    const csv = 'email,name\na@example.com,A\nb@example.com,"never closed\nc@example.com,C\n';
    const report = await importCsv(store, Readable.from([csv]), { file: 'q.csv' });
    expect(report.imported).toBe(1);
    expect(report.rejected).toEqual([{ line: expect.any(Number), reason: expect.stringMatching(/quote .* never closed/) }]);
  });

  it('applies repeated addresses in file order across batches, whether they were new or not', async () => {
    // 60 rows in batches of 10: after the first batches the importer writes without reading
    // first and keeps two batches in Redis's queue; `old` exists already, `twice` is new.
    const rows = Array.from({ length: 60 }, (_, i) => `reader${i}@example.com,Reader ${i},`);
    rows[23] = 'old@example.com,Second,b';
    rows[33] = 'old@example.com,Third,c';
    rows[43] = 'twice@example.com,First,d';
    rows[44] = 'old@example.com,Fourth,';
    rows[53] = 'twice@example.com,Last,e';
    const csv = `email,name,lists\n${rows.join('\n')}\n`;
    const sequential = new SubscriberStore({ redis, prefix: `${prefix}:sequential` });
    for (const s of [store, sequential]) await s.add({ email: 'old@example.com', name: 'First', lists: ['a'] });
    const report = await importCsv(store, Readable.from([csv]), { file: 'r.csv', batchSize: 10 });
    const oneBatch = await importCsv(sequential, Readable.from([csv]), { file: 'r.csv', batchSize: 1000 });
    expect(report).toEqual({ imported: 56, updated: 4, unchanged: 0, rejected: [], rejectedTotal: 0, rejectedByKind: {} });
    expect(report).toEqual(oneBatch);
    expect(await store.getByEmail('old@example.com')).toMatchObject({ name: 'Fourth', lists: ['a', 'b', 'c'] });
    expect(await store.getByEmail('twice@example.com')).toMatchObject({ name: 'Last', lists: ['d', 'e'] });
    expect(await store.countList()).toBe(57);
  });

  it('keeps suppressed subscribers suppressed on re-import, and records unsubscribes found in the file', async () => {
    const { subscriber } = await store.add({ email: 'bounce@example.com' });
    await store.markBounced(subscriber.id, '550 5.1.1');
    const old = (await store.add({ email: 'old@example.com' })).subscriber;
    const report = await importFile('with-status.csv', 'other');
    expect(report).toMatchObject({ imported: 1, updated: 2, rejected: [] });
    expect((await store.get(subscriber.id))?.status).toBe('bounced');
    expect(await store.get(old.id)).toMatchObject({ status: 'unsubscribed', history: [{}, { status: 'unsubscribed', reason: 'imported as unsubscribed' }] });
    expect((await store.getByEmail('new@example.com'))?.status).toBe('active');
  });
});
