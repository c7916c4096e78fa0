import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { countByRecipient, startHarness, type Harness } from '../delivery/harness.ts';

let harness: Harness | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  await harness?.close();
  harness = undefined;
});

function spawnWorker(script: string, env: Record<string, string>): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['bin/run-ts.js', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/ready/.test(output)) resolve(proc);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`worker exited early (${code}): ${output}`)));
  });
}

const exited = (proc: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));

describe('worker processes', () => {
  it('a worker killed with SIGKILL mid-send leaves nothing lost and nothing doubled', async () => {
    let released = false;
    // After 100 messages the server stops answering DATA: the worker is killed with messages
    // in flight that the server never accepted, and every accepted one had time to be recorded.
    const h: Harness = (harness = await startHarness({ script: { holdData: () => !released && h.smtp.messages.length >= 100 } }));
    const subscribers = await h.addSubscribers(300);
    const proc = await spawnWorker('test/workers/child-worker.ts', h.env);
    await h.send();
    await h.smtp.waitForMessages(100);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const gone = exited(proc);
    proc.kill('SIGKILL');
    expect((await gone).signal).toBe('SIGKILL');
    const atKill = await h.app.campaigns.require(h.campaignId);
    expect(atKill.accepted).toBe(100);
    expect(atKill.state).toBe('running');

    released = true;
    h.startWorker({ lockDurationMs: 1_000, stalledIntervalMs: 300 });
    const done = await h.waitFor((c) => c.state === 'completed', 20_000);
    // The messages the server took in full but never answered (one per pooled connection) are
    // unconfirmed: the worker died after their last byte, so they may have arrived. At most once
    // wins: they are recorded as failed with that reason, not sent again.
    const unconfirmed = new Set(
      (await h.app.campaigns.allFailures(h.campaignId)).map((f) => {
        expect(f.reply).toMatch(/^outcome unknown: /);
        return f.subscriberId;
      }),
    );
    expect(unconfirmed.size).toBe(done.failed);
    expect(done.failed).toBeLessThanOrEqual(Number(h.env.SMTP_MAX_CONNECTIONS));
    expect(done).toMatchObject({ total: 300, accepted: 300 - done.failed, skipped: 0 });
    expect(h.smtp.messages).toHaveLength(300 - done.failed);
    const counts = countByRecipient(h.smtp);
    for (const { id, email } of subscribers) expect(counts.get(email) ?? 0, email).toBe(unconfirmed.has(id) ? 0 : 1);
  });

  it('SIGTERM: the worker finishes what is in flight, exits 0, and another worker completes the campaign', async () => {
    const h = (harness = await startHarness({ env: { SEND_RATE_PER_SECOND: '100' } }));
    const subscribers = await h.addSubscribers(150);
    const proc = await spawnWorker('workers/delivery-worker.ts', h.env);
    await h.send();
    await h.smtp.waitForMessages(10);
    const gone = exited(proc);
    proc.kill('SIGTERM');
    const exit = await gone;
    expect(exit).toEqual({ code: 0, signal: null });
    const afterStop = await h.app.campaigns.require(h.campaignId);
    // Every message the server accepted was recorded before the worker exited.
    expect(afterStop.accepted).toBe(h.smtp.messages.length);
    expect(afterStop.accepted).toBeLessThan(150);

    h.startWorker();
    const done = await h.waitFor((c) => c.state === 'completed', 20_000);
    expect(done).toMatchObject({ total: 150, accepted: 150 });
    const counts = countByRecipient(h.smtp);
    for (const { email } of subscribers) expect(counts.get(email), email).toBe(1);
  });
});
