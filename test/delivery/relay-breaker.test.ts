import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { campaignStatus, campaignDeps } from '../../src/operations/campaign-operations.ts';
import { freePort } from '../../src/redis/private-redis-server.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { countByRecipient, startHarness, type Harness } from '../helpers/delivery-harness.ts';

let harness: Harness | undefined;
let silent: { server: Server; sockets: Set<Socket>; connections: number } | undefined;
let relay: TestSmtpServer | undefined;
afterEach(async () => {
  await harness?.close();
  await relay?.close();
  await closeSilent();
  harness = relay = undefined;
});

/** A relay that takes TCP connections and never says a word. */
async function startSilentRelay(port: number) {
  const sockets = new Set<Socket>();
  const state = { server: createServer(), sockets, connections: 0 };
  state.server.on('connection', (socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => state.server.listen(port, '127.0.0.1', resolve));
  return state;
}

async function closeSilent() {
  if (!silent) return;
  for (const socket of silent.sockets) socket.destroy();
  await new Promise((resolve) => silent!.server.close(resolve));
  silent = undefined;
}

describe('the relay breaker', () => {
  it('pauses the fleet when the relay stops answering, spends no attempt, says so, and resumes by itself when it answers', async () => {
    const port = await freePort();
    silent = await startSilentRelay(port);
    harness = await startHarness({
      env: {
        SMTP_URL: `smtp://127.0.0.1:${port}`,
        SMTP_TIMEOUT_MS: '300',
        // One attempt: a relay failure that spent it would fail the recipients at once.
        SEND_ATTEMPTS: '1',
        RELAY_FAILURES_TO_PAUSE: '3',
        RELAY_PAUSE_MS: '400',
        RELAY_PAUSE_MAX_MS: '800',
      },
    });
    const subscribers = await harness.addSubscribers(40);
    await harness.send();
    harness.startWorker();
    const deps = campaignDeps(harness.app);

    // Opened after three timeouts in a row; campaign status says so.
    await expect
      .poll(async () => (await campaignStatus(deps, harness!.campaignId)).relay, { timeout: 10_000 })
      .toMatchObject({
        state: 'open',
        reason: expect.stringMatching(/greeting|timeout/i),
      });
    // While the relay stays silent the breaker keeps pausing, longer each time: connections stay few.
    await expect.poll(async () => (await harness!.app.relay.read()).pauses, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const during = await harness.app.campaigns.require(harness.campaignId);
    expect(during).toMatchObject({ accepted: 0, failed: 0 });
    expect(await harness.app.deliveryQueue().getJobCounts('failed')).toEqual({ failed: 0 });
    expect(silent.connections).toBeLessThanOrEqual(3 * 6);

    // The relay comes back on the same port: sending resumes by itself, everyone once.
    await closeSilent();
    relay = await startTestSmtpServer({ port });
    const done = await harness.waitFor((c) => c.state === 'completed', 20_000);
    expect(done).toMatchObject({ total: 40, accepted: 40, failed: 0, deferred: 0 });
    const counts = countByRecipient(relay);
    for (const { email } of subscribers) expect(counts.get(email), email).toBe(1);
    expect((await harness.app.relay.read()).state).toBe('closed');
  });
});
