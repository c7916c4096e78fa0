/**
 * `newsletter demo` as a fresh machine runs it: no terminal (as CI), only Redis, no SMTP_URL
 * and no secret in its environment. It must finish by itself, leave no worker behind, and
 * say where to look.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/redis/private-redis-server.ts';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { runCli } from '../helpers/run-cli.ts';

const prefix = uniquePrefix('demo-cli');
let outbox: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  outbox = await mkdtemp(join(tmpdir(), 'nl-demo-cli-'));
  ({ cleanup } = await connectTestRedis(prefix));
});
afterAll(async () => {
  await cleanup();
  await rm(outbox, { recursive: true, force: true });
});

function demo(args: string[], env: Record<string, string>) {
  return runCli(['demo', ...args], { env });
}

describe('newsletter demo (the command)', () => {
  it('runs to the end without a terminal, prints progress lines and where to look, and exits 0', async () => {
    const run = await demo(['--prefix', prefix, '--outbox', outbox, '--subscribers', '5'], { REDIS_URL: TEST_REDIS_URL });
    expect(run.stderr).toMatch(/100% \| 5\/5 \| accepted 5 failed 0 skipped 0/);
    expect(run.code).toBe(0);
    const [runDir] = await readdir(outbox);
    expect((await readdir(join(outbox, runDir!))).filter((f) => f.endsWith('.eml'))).toHaveLength(5);
    expect(run.stdout).toMatch(/started 2 delivery worker processes \(pids \d+, \d+\)/);
    expect(run.stdout).toContain('campaign sofa-weekly-2019-11-01--weekly completed, 5 accepted, 0 failed, 0 skipped of 5');
    expect(run.stdout).toContain(`${join(outbox, runDir!)}/  5 messages as .eml files`);
    // Two workers send in any order: whichever message arrived first is the one shown.
    const [firstFile] = (await readdir(join(outbox, runDir!))).filter((f) => f.endsWith('.eml')).sort();
    expect(firstFile).toMatch(/^0001-/);
    expect(run.stdout).toContain(`${firstFile}  one of them`);
    expect(run.stdout).toContain('npx newsletter preview');
    expect(run.stdout).toMatch(/http:\/\/localhost:3000\/unsubscribe\/[\w-]+\.[\w-]+\n/);
    // The workers it started are gone: their pids no longer exist.
    for (const pid of /pids (\d+), (\d+)/.exec(run.stdout)!.slice(1).map(Number)) {
      expect(() => process.kill(pid, 0)).toThrow();
    }
  });

  it('without Redis and without redis-server, says in one line how to get one, naming REDIS_URL, and exits 1', async () => {
    const run = await demo(['--prefix', prefix, '--outbox', outbox], { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, PATH: '/nonexistent' });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^newsletter: REDIS_URL: this needs Redis: .*apt-get install redis-server.*brew install redis.*docker compose up redis.*\[CONFIG_INVALID\]$/,
      ),
    ]);
  });
});
