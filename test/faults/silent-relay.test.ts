import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/redis/private-redis-server.ts';
import { countByRecipient } from '../helpers/delivery-harness.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { scenarioPerTest } from './fault-harness.ts';

const startScenario = scenarioPerTest();

describe('fault: a relay that accepts connections and never speaks', () => {
  it('two workers, 2,000 recipients, a relay silent through three pauses: the fleet pauses instead of spending attempts, says so, and sends everyone once when the relay answers', async () => {
    const port = await freePort();
    const sockets = new Set<Socket>();
    let connections = 0;
    const silent = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    let relay: TestSmtpServer | undefined;
    try {
      // Two attempts per batch: before the breaker, the silent relay used both up and failed every recipient.
      const s = await startScenario({
        recipients: 2_000,
        env: {
          SMTP_URL: `smtp://127.0.0.1:${port}`,
          SMTP_TIMEOUT_MS: '1000',
          SEND_ATTEMPTS: '2',
          RELAY_FAILURES_TO_PAUSE: '5',
          RELAY_PAUSE_MS: '2000',
          RELAY_PAUSE_MAX_MS: '4000',
        },
      });
      const workers = [await s.processes.worker(s.env), await s.processes.worker(s.env)];
      const { id } = await s.harness.send();
      // Said at once: the worker that paused the fleet logs it, and the campaign's status shows it.
      await expect.poll(() => workers.map((w) => w.stdout()).join(''), { timeout: 30_000 }).toMatch(/relay failing: sending paused for the whole fleet/);
      await expect.poll(async () => (await s.harness.app.relay.read()).state, { timeout: 10_000 }).not.toBe('closed');
      await expect.poll(async () => (await s.harness.app.relay.read()).pauses, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
      const during = await s.harness.app.campaigns.require(id);
      const connectionsWhileSilent = connections;

      // The relay answers again, on the same address: sending resumes by itself.
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      relay = await startTestSmtpServer({ port });
      const done = await s.harness.waitFor((c) => c.state === 'completed', 120_000);
      const counts = countByRecipient(relay);
      const twice = s.subscribers.filter((sub) => (counts.get(sub.email) ?? 0) > 1);
      const missing = s.subscribers.filter((sub) => (counts.get(sub.email) ?? 0) === 0);
      console.log(
        `silent relay: ${connectionsWhileSilent} connections while silent, ${(await s.harness.app.relay.read()).pauses} pauses; then ${relay.messages.length} messages, campaign ${JSON.stringify({ accepted: done.accepted, failed: done.failed })}`,
      );
      expect(during).toMatchObject({ accepted: 0, failed: 0 });
      expect(await s.harness.app.deliveryQueue().getJobCounts('failed')).toEqual({ failed: 0 });
      expect(twice).toEqual([]);
      expect(missing).toEqual([]);
      expect(done).toMatchObject({ total: 2_000, accepted: 2_000, failed: 0, deferred: 0 });
      // Without the breaker, 2 workers x 5 connections would keep opening connections every timeout.
      expect(connectionsWhileSilent).toBeLessThan(200);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
      await relay?.close();
    }
  });
});
