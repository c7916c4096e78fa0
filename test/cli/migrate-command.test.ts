import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';
import { loadStoreFixture, readStoreFixture } from '../helpers/load-store-fixture.ts';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { runCli, type CliResult } from '../helpers/run-cli.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/store-layout-1.json', import.meta.url));

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;

beforeAll(async () => {
  prefix = uniquePrefix('migrate-cli');
  ({ redis, cleanup } = await connectTestRedis(prefix));
  await loadStoreFixture(redis, await readStoreFixture(FIXTURE), prefix);
});
afterAll(async () => {
  await cleanup();
});

const cli = (...args: string[]): Promise<CliResult> => runCli(args, { env: { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix } });

describe('newsletter migrate', () => {
  it('moves a layout-1 store, says how many, and says there is nothing to move the second time', async () => {
    const before = await new SubscriberStore({ redis, prefix }).countList();
    const first = await cli('migrate');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('warning: subscribers are still kept in the layout before 0.2');
    expect(first.stdout).toMatch(new RegExp(`^moved ${before} subscribers in \\d+\\.\\d s; 0 left in the old layout\\n$`));
    const snapshot = await dumpKeys(redis, prefix);
    const again = await cli('migrate', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ moved: 0, damaged: [], left: 0 });
    expect(await dumpKeys(redis, prefix)).toEqual(snapshot);
    const third = await cli('migrate');
    expect(third.stdout).toBe('nothing to move: every subscriber is in the current layout\n');
    expect(third.stderr).not.toContain('layout before 0.2');
  });
});
