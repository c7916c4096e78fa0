import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';

const fixtures = fileURLToPath(new URL('../fixtures/bounces/', import.meta.url));
// Hermetic: none of the caller's REDIS_URL / NEWSLETTER_* / SMTP_*; the command must not need them.
const env = { PATH: process.env.PATH, NO_COLOR: '1' };
const bounces = (...args: string[]) => runCli(['bounces', 'parse', ...args], { env });

describe('newsletter bounces parse', () => {
  it('--json prints one object per file, with the campaign and subscriber from our Message-ID', async () => {
    const result = await bounces('--json', join(fixtures, 'dsn-hard-user-unknown.eml'), join(fixtures, 'auto-reply.eml'));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      {
        file: join(fixtures, 'dsn-hard-user-unknown.eml'),
        kind: 'hard',
        recipients: [{ address: 'kim.reader@example.org', status: '5.1.1', kind: 'hard', reason: 'user-unknown' }],
        campaignId: 'weekly-2024-05-03--default',
        subscriberId: 'AbCdEfGhIjKlMnOp',
        messageId: 'weekly-2024-05-03--default.AbCdEfGhIjKlMnOp@news.example.org',
      },
      {
        file: join(fixtures, 'auto-reply.eml'),
        kind: 'auto-reply',
        recipients: [{ address: 'kim.reader@example.org', status: null, kind: 'auto-reply', reason: 'auto-reply' }],
        campaignId: null,
        subscriberId: null,
        messageId: null,
      },
    ]);
  });

  it('walks a folder for .eml files, sorted, and prints one readable line per file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'newsletter-bounces-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'b.eml'), 'From: kim@example.org\nSubject: hello\n\nhi\n');
    writeFileSync(join(dir, 'sub', 'a.eml'), 'From: kim@example.org\nAuto-Submitted: auto-replied\nSubject: Out of office\n\naway\n');
    writeFileSync(join(dir, 'notes.txt'), 'not a message');
    const result = await bounces(dir);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      `${join(dir, 'b.eml')}: none`,
      `${join(dir, 'sub', 'a.eml')}: auto-reply: kim@example.org auto-reply auto-reply`,
    ]);
  });

  it('names campaign and subscriber in the readable line', async () => {
    const result = await bounces(join(fixtures, 'qmail-user-unknown.eml'));
    expect(result.stdout.trim()).toBe(
      `${join(fixtures, 'qmail-user-unknown.eml')}: hard: jo@example.net hard 5.1.1 user-unknown (campaign weekly-2024-05-03--default, subscriber AbCdEfGhIjKlMnOp)`,
    );
  });

  it('classifies broken input as none and exits 0', async () => {
    const result = await bounces('--json', join(fixtures, 'malformed.eml'));
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ kind: 'none', recipients: [] });
  });

  it('exits 1 naming the file that cannot be read', async () => {
    const result = await bounces(join(fixtures, 'auto-reply.eml'), '/nonexistent/bounce.eml');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('newsletter: /nonexistent/bounce.eml: cannot be read: no such file or folder [MESSAGE_UNREADABLE]');
  });

  it('exits 1 for a folder without .eml files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'newsletter-bounces-empty-'));
    const result = await bounces(dir);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`newsletter: ${dir}: no .eml files in this folder [MESSAGE_UNREADABLE]`);
  });

  it('has --help', async () => {
    const result = await runCli(['bounces', 'parse', '--help'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--json');
  });
});
