/**
 * Bad CSV imports through `newsletter subscribers import`. A file that cannot be read as
 * a subscriber list is refused whole (file and line, exit 1, Redis exactly as before). Bad
 * rows in a readable file are reported as `file:line: reason` and skipped while the good
 * rows go in (exit 1, so scripts notice); nothing of a bad row reaches Redis.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.ts';
import { parseRecord } from '../../src/subscribers/subscriber-record.ts';
import { dumpEntries } from '../helpers/dump-keys.ts';
import { errorLines, expectCliError, literal, openWorld, type World } from './harness.ts';

let world: World;
beforeAll(async () => {
  world = await openWorld('bad-csv');
});
afterAll(() => world?.close());

interface Report {
  imported: number;
  updated: number;
  unchanged: number;
  rejected: { line: number; reason: string }[];
}

const importFile = (file: string) => world.cli(['subscribers', 'import', file, '--list', 'weekly', '--json']);

interface RefusedFile {
  name: string;
  content: string | Buffer;
  code: ErrorCode;
  /** What follows `newsletter: <file>`. */
  after: RegExp;
}

const refused: RefusedFile[] = [
  { name: 'no email column', content: 'mail,name\na@example.com,A\n', code: 'IMPORT_FILE_INVALID', after: /^:1: the header row has no "email" column/ },
  {
    name: 'a header naming email twice',
    content: 'email,name,EMAIL\na@example.com,A,b@example.com\n',
    code: 'IMPORT_FILE_INVALID',
    after: /^:1: the header row names "email" twice/,
  },
  {
    name: 'a header column without a name',
    content: 'email,,name\na@example.com,x,A\n',
    code: 'IMPORT_FILE_INVALID',
    after: /^:1: column 2 of the header row has no name/,
  },
  { name: 'an empty file', content: '', code: 'IMPORT_FILE_INVALID', after: /^: the file is empty: it needs a header row with an "email" column/ },
  {
    name: 'UTF-16 big-endian with a byte order mark',
    content: Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('email,name\nbe@example.com,Zoë\n', 'utf16le').swap16()]),
    code: 'IMPORT_FILE_INVALID',
    after: /^:1: the file is not UTF-8 \(UTF-16 or another encoding\?\): save it as UTF-8/,
  },
  {
    name: 'UTF-16 little-endian without a byte order mark',
    content: Buffer.from('email,name\nle@example.com,Zoë\n', 'utf16le'),
    code: 'IMPORT_FILE_INVALID',
    after: /^:1: the file is not UTF-8/,
  },
  {
    name: 'a Latin-1 header',
    content: Buffer.from('email,prénom\nlat@example.com,José\n', 'latin1'),
    code: 'IMPORT_FILE_INVALID',
    after: /^:1: the file is not UTF-8/,
  },
];

describe('a file that is not a readable subscriber list is refused whole, and nothing changes', () => {
  it.each(refused)('$name', async ({ name, content, code, after }) => {
    const file = world.scratch.write(`${name.replace(/\W+/g, '-')}.csv`, content);
    const before = await world.snapshot();
    expectCliError(await importFile(file), code, new RegExp(`^newsletter: ${literal(file)}${after.source.slice(1)}`));
    expect(await world.snapshot()).toEqual(before);
  });

  it('a file that does not exist, or is a folder', async () => {
    const before = await world.snapshot();
    const missing = join(world.scratch.dir, 'missing.csv');
    expectCliError(await importFile(missing), 'IMPORT_FILE_INVALID', new RegExp(`^newsletter: ${literal(missing)}: cannot read the file`));
    expectCliError(await importFile(world.scratch.dir), 'IMPORT_FILE_INVALID', new RegExp(`^newsletter: ${literal(world.scratch.dir)}: not a file`));
    expect(await world.snapshot()).toEqual(before);
  });

  it('a header row and no rows: nothing to do, exit 0, nothing changes', async () => {
    const file = world.scratch.write('header-only.csv', 'email,name\r\n');
    const before = await world.snapshot();
    const result = await importFile(file);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ imported: 0, updated: 0, unchanged: 0, rejected: [], rejectedTotal: 0, rejectedByKind: {} });
    expect(await world.snapshot()).toEqual(before);
  });
});

/** Subscriber records (dumpEntries names) by address, straight from the snapshot. */
function records(snapshot: Awaited<ReturnType<World['snapshot']>>): Map<string, string> {
  const found = new Map<string, string>();
  for (const [entry, value] of Object.entries(dumpEntries(snapshot))) {
    if (!entry.includes(':sub:r:')) continue;
    const record = parseRecord('', String(value));
    if (record) found.set(record.subscriber.email, entry);
  }
  return found;
}

/**
 * After a partial import: every entry (a key, or a hash field) that was there is unchanged
 * except the counters and membership bitmaps new members move, the only new entries are the
 * good rows' records and their addresses in the email index, and no key or value mentions
 * anything from a bad row.
 */
async function expectOnlyGoodRowsAdded(before: Awaited<ReturnType<World['snapshot']>>, good: string[], bad: string[]) {
  const after = await world.snapshot();
  const [was, now] = [dumpEntries(before), dumpEntries(after)];
  const base = `${world.prefix}:{${world.prefix}}:sub`;
  const moving = [`${base}:n`, `${base}:m`, `${base}:m:weekly`, `${base}:counts#@all`, `${base}:counts#weekly`];
  for (const [entry, value] of Object.entries(was)) {
    if (!moving.includes(entry)) expect(now[entry], entry).toEqual(value);
  }
  const added = records(after);
  for (const email of records(before).keys()) added.delete(email);
  expect([...added.keys()].sort()).toEqual([...good].sort());
  const fresh = Object.keys(now).filter((entry) => !(entry in was));
  expect(fresh.filter((entry) => entry.includes(':sub:r:')).sort()).toEqual([...added.values()].sort());
  expect(
    fresh
      .filter((entry) => entry.includes(':sub:e:'))
      .map((entry) => entry.slice(entry.indexOf('#') + 1))
      .sort(),
  ).toEqual(good.map((e) => e.toLowerCase()).sort());
  expect(fresh.filter((entry) => !entry.includes(':sub:r:') && !entry.includes(':sub:e:'))).toEqual([]);
  const everything = JSON.stringify(after);
  for (const text of bad) expect(everything, text).not.toContain(text);
}

describe('bad rows are reported as file:line and skipped; the good rows go in', () => {
  it('invalid addresses', async () => {
    const file = world.scratch.write(
      'invalid.csv',
      'email,name\ngood1@example.com,Good One\nnot-an-address,Bad\nalso@bad@example.com,Bad2\ngood2@example.com,Good Two\nnobody@localhost,Bad3\n,Empty\n',
    );
    const before = await world.snapshot();
    const result = await importFile(file);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report).toMatchObject({ imported: 2, updated: 0, unchanged: 0 });
    expect(report.rejected.map((r) => r.line)).toEqual([3, 4, 6, 7]);
    expect(errorLines(result)).toEqual([
      `${file}:3: "not-an-address" is not a valid email address: it needs a name, an "@" and a domain`,
      `${file}:4: "also@bad@example.com" is not a valid email address: the part before "@" has characters that are not allowed`,
      `${file}:6: "nobody@localhost" is not a valid email address: "localhost" is not a domain`,
      `${file}:7: "" is not a valid email address: empty`,
    ]);
    await expectOnlyGoodRowsAdded(before, ['good1@example.com', 'good2@example.com'], ['not-an-address', 'also@bad', 'nobody@localhost', 'Empty']);
  });

  it('a row with too many fields, a bad status, and a quote that is never closed', async () => {
    const file = world.scratch.write(
      'broken-rows.csv',
      'email,name,status\nrow1@example.com,One,active\nrow2@example.com,Two,active,extra\nrow3@example.com,Three,vanished\nrow4@example.com,Four,\nrow5@example.com,"Five,active\nrow6@example.com,Six,active\n',
    );
    const before = await world.snapshot();
    const result = await importFile(file);
    expect(result.code).toBe(1);
    expect(errorLines(result)).toEqual([
      `${file}:3: has 4 fields, the header has 3`,
      `${file}:4: status "vanished" is not one of pending, active, unsubscribed, bounced, complained`,
      `${file}:6: a quote opened here is never closed; the rest of the file was not read`,
    ]);
    await expectOnlyGoodRowsAdded(before, ['row1@example.com', 'row4@example.com'], ['row2@', 'row3@', 'row5@', 'row6@']);
  });

  it('a huge field (a 5 MB name): that row is refused, its neighbours go in', async () => {
    const file = world.scratch.write(
      'huge-field.csv',
      `email,name\nbefore@example.com,Before\nhuge@example.com,${'huge-name-'.repeat(512 * 1024)}\nafter@example.com,After\n`,
    );
    const before = await world.snapshot();
    const result = await importFile(file);
    expect(result.code).toBe(1);
    expect(errorLines(result)).toEqual([`${file}:3: name is longer than 200 characters`]);
    await expectOnlyGoodRowsAdded(before, ['before@example.com', 'after@example.com'], ['huge@example.com', 'huge-name-huge-name-']);
  });

  it('Latin-1 rows: the ones that are not valid UTF-8 are refused by line; re-saved as UTF-8 they go in', async () => {
    const file = world.scratch.write('latin1.csv', Buffer.from('email,name\nplain@example.com,Plain\njose@example.com,José\n', 'latin1'));
    const before = await world.snapshot();
    const result = await importFile(file);
    expect(result.code).toBe(1);
    expect(errorLines(result)).toEqual([`${file}:3: is not valid UTF-8 (save the file as UTF-8)`]);
    await expectOnlyGoodRowsAdded(before, ['plain@example.com'], ['jose@example.com']);
  });
});

describe('files that are unusual but fine are read correctly', () => {
  it('mixed line endings (CRLF, LF and CR in one file): every row is its own subscriber, with its own line', async () => {
    const file = world.scratch.write(
      'mixed.csv',
      'email,name\r\nm1@example.com,M1\r\nm2@example.com,M2\nm3@example.com,M3\r\nm4@example.com,M4\rbad-row,M5\nm6@example.com,"Six\nLines"\n',
    );
    const before = await world.snapshot();
    const result = await importFile(file);
    expect(errorLines(result)).toEqual([`${file}:6: "bad-row" is not a valid email address: it needs a name, an "@" and a domain`]);
    expect(JSON.parse(result.stdout)).toMatchObject({ imported: 5 });
    await expectOnlyGoodRowsAdded(before, ['m1@example.com', 'm2@example.com', 'm3@example.com', 'm4@example.com', 'm6@example.com'], ['bad-row']);
    expect((await world.store.getByEmail('m2@example.com'))?.name).toBe('M2');
  });

  it('UTF-16 little-endian with a byte order mark (what Excel saves as "Unicode text") is decoded', async () => {
    const file = world.scratch.write(
      'utf16le.csv',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('email,name\nzoe@example.com,Zoë Müller\n', 'utf16le')]),
    );
    const result = await importFile(file);
    expect(result.code, result.stderr).toBe(0);
    expect((await world.store.getByEmail('zoe@example.com'))?.name).toBe('Zoë Müller');
  });

  it('duplicate rows (also differing in case): one subscriber, the last row wins, exit 0', async () => {
    const file = world.scratch.write('duplicates.csv', 'email,name\ndup@example.com,First\nDUP@Example.com,Second\ndup@example.com,Third\n');
    const before = await world.snapshot();
    const result = await importFile(file);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ imported: 1, rejected: [] });
    await expectOnlyGoodRowsAdded(before, ['dup@example.com'], ['DUP@', 'First', 'Second']);
    expect((await world.store.getByEmail('dup@example.com'))?.name).toBe('Third');
  });
});
