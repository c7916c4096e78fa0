import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { childEnv, REPO, spawnCli } from '../helpers/run-cli.ts';
import { ACCEPTED, audit, scenarioPerTest } from './fault-harness.ts';

const startScenario = scenarioPerTest();
const POST = 'emails/posts/sofa-weekly-2019-11-01.md';

/** Redis refuses every write from now on, as a full Redis under noeviction does; reads go on. */
async function fillUp(redis: Redis): Promise<void> {
  await redis.config('SET', 'maxmemory', '1');
}

async function makeRoom(redis: Redis): Promise<void> {
  await redis.config('SET', 'maxmemory', '0');
}

describe('fault: Redis in trouble (full, restarting) is named as Redis, waited out, and spends no delivery attempt', () => {
  it('send into a full Redis says which campaign and that running send again continues it (exit 75); it does, and everyone gets it once', async () => {
    const s = await startScenario({ recipients: 3_000 });
    const admin = new Redis(s.redis.url);
    try {
      const id = s.harness.campaignId;
      const first = spawn(process.execPath, ['bin/newsletter.js', 'send', POST, '--list', 'weekly'], {
        cwd: REPO,
        env: childEnv(s.env),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      first.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = new Promise<number | null>((resolve) => first.once('exit', resolve));
      await expect
        .poll(async () => Number((await admin.hget(s.harness.app.campaigns.keys(id).meta, 'batches')) ?? 0), { interval: 5, timeout: 60_000 })
        .toBeGreaterThan(0);
      await fillUp(admin);
      expect(await code).toBe(75);
      expect(stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^newsletter: REDIS_URL: Redis did not take campaign ${id} \\(OOM .*\\); .*run the same send again and it continues where it stopped \\[REDIS_UNAVAILABLE\\]$`,
          ),
        ),
      ]);
      expect((await s.harness.app.campaigns.require(id)).state).toBe('enqueuing');

      await makeRoom(admin);
      const again = await spawnCli(['send', POST, '--list', 'weekly'], { env: s.env });
      expect(again.code).toBe(0);
      await s.processes.worker(s.env);
      const done = await s.harness.waitFor((c) => c.state === 'completed', 120_000);
      const result = await audit(s, id, () => ACCEPTED);
      expect(result.duplicates).toEqual([]);
      expect(result.unexpected).toEqual([]);
      expect(done).toMatchObject({ total: 3_000, accepted: 3_000, failed: 0 });
    } finally {
      await makeRoom(admin).catch(() => {});
      admin.disconnect();
    }
  });

  it('workers meeting a full Redis mid-campaign hand their batches back: no delivery counted as deferred, no attempt spent, everyone once', async () => {
    // One attempt per batch: a Redis error that spent it (or was taken for an SMTP deferral) would fail recipients.
    const s = await startScenario({ recipients: 1_000, env: { SEND_RATE_PER_SECOND: '200', SEND_ATTEMPTS: '1' } });
    const admin = new Redis(s.redis.url);
    try {
      const workers = [await s.processes.worker(s.env), await s.processes.worker(s.env)];
      const { id } = await s.harness.send();
      await s.smtp.waitForMessages(200, 60_000);
      await fillUp(admin);
      await expect.poll(() => workers.map((w) => w.stdout()).join(''), { timeout: 30_000 }).toMatch(/Redis failed: batch handed back/);
      await makeRoom(admin);
      const done = await s.harness.waitFor((c) => c.state === 'completed', 120_000);
      const result = await audit(s, id, () => ({ ledger: /^(accepted|failed: outcome unknown: .*)$/, received: [0, 1] }));
      const logs = workers.map((w) => w.stdout()).join('');
      console.log(`full Redis: ledger ${JSON.stringify(result.ledgerCounts)}`);
      expect(result.duplicates).toEqual([]);
      expect(result.unexpected).toEqual([]);
      expect(logs).not.toMatch(/delivery deferred/);
      expect(done).toMatchObject({ total: 1_000, deferred: 0, skipped: 0 });
      // A reply that could not be recorded while Redis refused writes leaves its recipient outcome unknown; nothing else fails.
      expect(done.failed).toBeLessThanOrEqual(2 * Number(s.env.WORKER_CONCURRENCY));
      expect(await s.harness.app.deliveryQueue().getJobCounts('failed')).toEqual({ failed: 0 });
    } finally {
      await makeRoom(admin).catch(() => {});
      admin.disconnect();
    }
  });

  it('send --wait keeps watching through a 3 s Redis restart and exits 0 with the final counters', async () => {
    const s = await startScenario({ recipients: 1_500, env: { SEND_RATE_PER_SECOND: '200' } });
    await s.processes.worker(s.env);
    const waiting = spawnCli(['send', POST, '--list', 'weekly', '--wait', '--json'], { env: s.env, timeoutMs: 120_000 });
    await s.smtp.waitForMessages(300, 60_000);
    await s.redis.restart(3_000);
    const sent = await waiting;
    expect(sent.stderr).not.toMatch(/REDIS_UNAVAILABLE|Error/);
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout.trim().split('\n').at(-1)!)).toMatchObject({ campaignId: s.harness.campaignId, total: 1_500, accepted: 1_500, failed: 0 });
    const result = await audit(s, s.harness.campaignId, () => ACCEPTED);
    expect(result.duplicates).toEqual([]);
  });
});
