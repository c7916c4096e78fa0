import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { childEnv, REPO, spawnCli } from '../helpers/run-cli.ts';
import { ACCEPTED, audit, scenarioPerTest } from './fault-harness.ts';

const startScenario = scenarioPerTest();
const POST = 'emails/posts/sofa-weekly-2019-11-01.md';

describe('fault: `newsletter send` killed in the middle of enqueueing, the list changed, and send run again', () => {
  it('50,000 recipients: send killed mid-enqueue, one member already enqueued removed, send again: every other member gets the issue exactly once', async () => {
    const s = await startScenario({ recipients: 50_000 });
    const id = `${s.harness.campaignId}`;
    const meta = s.harness.app.campaigns.keys(id).meta;
    const watcher = new Redis(s.redis.url);
    try {
      // No worker yet: the first send only enqueues.
      const first = spawn(process.execPath, ['bin/newsletter.js', 'send', POST, '--list', 'weekly'], { cwd: REPO, env: childEnv(s.env), stdio: 'ignore' });
      const exited = new Promise((resolve) => first.once('exit', resolve));
      // Once some batches are counted, hold every writer of this Redis (reads go on) and kill send while it waits.
      await expect.poll(async () => Number((await watcher.hget(meta, 'batches')) ?? 0), { timeout: 60_000, interval: 5 }).toBeGreaterThan(0);
      await watcher.client('PAUSE', 5_000, 'WRITE');
      first.kill('SIGKILL');
      await exited;
      await watcher.client('UNPAUSE');
      const interrupted = await s.harness.app.campaigns.require(id);
      expect(interrupted.state).toBe('enqueuing');
      expect(interrupted.total).toBeGreaterThan(0);
      expect(interrupted.total).toBeLessThan(50_000);

      // A member already enqueued leaves: every later member moves up one place in the list.
      const [gone] = s.subscribers.splice(0, 1);
      await s.harness.app.subscribers.remove(gone!.id);
      const again = await spawnCli(['send', POST, '--list', 'weekly'], { env: s.env });
      expect(again.stderr).not.toMatch(/error/i);
      expect(again.code).toBe(0);

      await s.processes.worker(s.env);
      await s.processes.worker(s.env);
      const done = await s.harness.waitFor((c) => c.state === 'completed', 150_000);
      const result = await audit(s, id, () => ACCEPTED);
      console.log(`interrupted send: ${interrupted.total} enqueued before the kill; then ${JSON.stringify(result.ledgerCounts)}`);
      expect(result.duplicates).toEqual([]);
      expect(result.foreign).toEqual([]);
      expect(result.unexpected).toEqual([]);
      // The removed member was enqueued once and is skipped; nobody is left out.
      expect(done).toMatchObject({ total: 50_000, accepted: 49_999, skipped: 1, failed: 0 });
    } finally {
      await watcher.client('UNPAUSE').catch(() => {});
      watcher.disconnect();
    }
  });
});
