import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';
import { runCli, type CliResult } from '../helpers/run-cli.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/subscribers/${name}`, import.meta.url));

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;

beforeAll(async () => {
  prefix = uniquePrefix('cli');
  ({ redis, cleanup } = await connectTestRedis(prefix));
});
afterAll(async () => {
  await cleanup();
});

function cli(...args: string[]): Promise<CliResult> {
  return runCli(args, { env: { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, NEWSLETTER_CONFIG: 'newsletter.yaml' } });
}

describe('newsletter subscribers', () => {
  it('imports a file and prints the --json report in the documented shape, exiting 1 for rejected rows', async () => {
    const result = await cli('subscribers', 'import', fixture('bad-rows.csv'), '--list', 'weekly', '--json');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(['imported', 'updated', 'unchanged', 'rejected', 'rejectedTotal', 'rejectedByKind']);
    expect(report).toMatchObject({ imported: 2, updated: 0, unchanged: 0 });
    expect(report.rejected.map((r: { line: number }) => r.line)).toEqual([3, 4, 5]);
    expect(result.stderr).toContain(`${fixture('bad-rows.csv')}:3: `);
    const store = new SubscriberStore({ redis, prefix });
    expect(await store.countList('weekly')).toBe(2);
  });

  it('adds, lists, exports and removes', async () => {
    const added = await cli('subscribers', 'add', 'New.One@Example.ORG', '--name', 'New One', '--list', 'weekly', '--json');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ created: true, subscriber: { email: 'New.One@example.org', status: 'active' } });
    const list = await cli('subscribers', 'list', '--list', 'weekly', '--json');
    expect(JSON.parse(list.stdout).map((s: { email: string }) => s.email)).toEqual(['ok1@example.com', 'ok3@example.com', 'New.One@example.org']);
    const exported = await cli('subscribers', 'export', '--list', 'weekly');
    expect(exported.stdout.split('\r\n')[0]).toBe('email,name,status,lists,created_at,updated_at');
    expect(exported.stdout).toContain('New.One@example.org,New One,active,weekly,');
    const removed = await cli('subscribers', 'remove', 'new.one@example.org');
    expect(removed.code).toBe(0);
    const count = await cli('subscribers', 'count', '--list', 'weekly');
    expect(count.stdout.trim()).toBe('2');
  });

  it('fails with exit 1 and one clear line for bad input, and changes nothing', async () => {
    const before = await dumpKeys(redis, prefix);
    const cases: [string[], RegExp][] = [
      [['subscribers', 'import', fixture('no-email-header.csv')], /no-email-header\.csv:1: .*"email" column \[IMPORT_FILE_INVALID\]/],
      [['subscribers', 'import', '/nonexistent/file.csv'], /\/nonexistent\/file\.csv: cannot read the file \[IMPORT_FILE_INVALID\]/],
      [['subscribers', 'add', 'not-an-address'], /email: "not-an-address" is not a valid email address: .* \[SUBSCRIBER_EMAIL_INVALID\]/],
      [['subscribers', 'remove', 'nobody@example.com'], /nobody@example\.com is not a subscriber \[SUBSCRIBER_NOT_FOUND\]/],
      [['subscribers', 'list', '--status', 'gone'], /--status: status "gone" is not one of .* \[INPUT_INVALID\]/],
      [['subscribers', 'export', '--list', 'two words'], /--list: list name "two words" must be .* \[INPUT_INVALID\]/],
      [['subscribers', 'set-status', 'ok1@example.com', 'vanished'], /status: status "vanished" is not one of .* \[INPUT_INVALID\]/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).toBe(1);
      // The shared test Redis keeps nothing on disk, so a durability warning may precede the error.
      const errors = result.stderr
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('warning: '));
      expect(errors, args.join(' ')).toHaveLength(1);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    expect(await dumpKeys(redis, prefix)).toEqual(before);
  });
});
