/**
 * The reply to the end of the message (the final dot), and what happens when it does not come.
 * Once the end is sent the server may have taken the message: a slow reply is waited for
 * (SMTP_DATA_TIMEOUT_MS, not SMTP_TIMEOUT_MS), and a reply that never comes (a timeout, a
 * connection dropped after the end) leaves the recipient failed, outcome unknown, never sent
 * again unless the operator asks.
 *
 * The SMTP server is real and in this process, but its own rather than test/helpers/smtp-server.ts:
 * that one counts a message only once it has answered it, and these tests need what the server
 * did after the end: answer late, drop the connection, or say nothing. Here every message whose
 * end arrived counts as received, answered or not: its recipient may have it.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { OUTCOME_UNKNOWN } from '../../src/campaign/delivery-outcome.ts';
import { counterField, MESSAGES } from '../../src/metrics/definitions.ts';
import { campaignDeps, campaignFailures, resendToFailed } from '../../src/operations/campaign-operations.ts';
import type { ReceivedMessage, TestSmtpServer } from '../helpers/smtp-server.ts';
import { countByRecipient, startHarness, type Harness } from '../helpers/delivery-harness.ts';

/** What the server does once it has the whole message: answer 250 now, answer after `ms`, drop the connection, or never answer. */
type AtEnd = 'answer' | { answerAfterMs: number } | 'drop' | 'silent';

interface EndScriptedServer extends TestSmtpServer {
  /** Per message whose end arrived, in order: the recipient, and when the end arrived and was answered (Date.now()). */
  ends: { to: string; at: number; answeredAt?: number }[];
}

/**
 * `atEnd` is asked once per message whose end arrived, with its recipient and how many ends to
 * that recipient came before. `silentRcpt` is asked on each RCPT TO, with the attempt's number:
 * true leaves it without a reply, so the message never gets to its end.
 */
async function startEndScriptedServer(
  atEnd: (to: string, before: number) => AtEnd,
  silentRcpt: (to: string, attempt: number) => boolean = () => false,
): Promise<EndScriptedServer> {
  const messages: ReceivedMessage[] = [];
  const ends: EndScriptedServer['ends'] = [];
  const rcptAttempts = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const attempt = (rcptAttempts.get(address.address) ?? 0) + 1;
      rcptAttempts.set(address.address, attempt);
      if (!silentRcpt(address.address, attempt)) callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      const dataStartedAt = Date.now();
      const to = session.envelope.rcptTo.map((r) => r.address);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const before = ends.filter((e) => e.to === to[0]).length;
        const end: EndScriptedServer['ends'][number] = { to: to[0]!, at: Date.now() };
        ends.push(end);
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to,
          raw,
          messageId: /^Message-ID:\s*<([^>\r\n]*)>/im.exec(raw.slice(0, raw.indexOf('\r\n\r\n')))?.[1] ?? '',
          dataStartedAt,
          receivedAt: end.at,
        });
        const answer = () => {
          end.answeredAt = Date.now();
          callback();
        };
        const action = atEnd(to[0]!, before);
        if (action === 'answer') answer();
        else if (action === 'drop') {
          for (const connection of connections()) if (connection.session === session) connection._socket.destroy();
        } else if (action !== 'silent') setTimeout(answer, action.answerAfterMs);
      });
    },
  });
  server.on('error', () => {});
  const connections = () => (server as unknown as { connections: Set<{ session: unknown; _socket: { destroy(): void } }> }).connections;
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const cutAll = () => {
    for (const connection of connections()) connection._socket.destroy();
  };
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    ends,
    rcptAttempts,
    close: () =>
      new Promise<void>((resolve) => {
        // A connection waiting for an answer that never comes would keep close() waiting.
        server.close(() => resolve());
        cutAll();
      }),
    crash: () =>
      new Promise<void>((resolve) => {
        server.server.close(() => resolve());
        cutAll();
      }),
    async waitForMessages(count, timeoutMs = 10_000) {
      await expect.poll(() => messages.length, { timeout: timeoutMs }).toBeGreaterThanOrEqual(count);
      return messages;
    },
  };
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const first = (addresses: string[], action: AtEnd) => (to: string, before: number) => (before === 0 && addresses.includes(to) ? action : 'answer');

describe('the reply to the end of the message', () => {
  it('is waited for longer than SMTP_TIMEOUT_MS, up to SMTP_DATA_TIMEOUT_MS: a slow reply is accepted, and nobody gets the message twice', async () => {
    const slow = ['r1@example.org', 'r4@example.org'];
    const smtp = await startEndScriptedServer(first(slow, { answerAfterMs: 1_500 }));
    harness = await startHarness({ smtp, env: { SMTP_TIMEOUT_MS: '500', SMTP_DATA_TIMEOUT_MS: '10000' } });
    const subscribers = await harness.addSubscribers(6);
    harness.startWorker();
    await harness.send();
    const done = await harness.waitFor((c) => c.state === 'completed');

    expect(done).toMatchObject({ total: 6, accepted: 6, failed: 0, skipped: 0, deferred: 0 });
    const counts = countByRecipient(smtp);
    for (const { email } of subscribers) expect(counts.get(email), email).toBe(1);
    for (const email of slow) {
      const [end] = smtp.ends.filter((e) => e.to === email);
      expect(end!.answeredAt! - end!.at).toBeGreaterThanOrEqual(1_450); // timers may fire a millisecond early by Date.now()
      expect(smtp.rcptAttempts.get(email)).toBe(1);
    }
  });

  it('dropped with the connection right after the end: failed, outcome unknown, received once, never sent again unless resend --include-unknown', async () => {
    const dropped = ['r2@example.org', 'r5@example.org'];
    const smtp = await startEndScriptedServer(first(dropped, 'drop'));
    harness = await startHarness({ smtp });
    const subscribers = await harness.addSubscribers(8);
    harness.startWorker();
    const { id } = await harness.send();
    const done = await harness.waitFor((c) => c.state === 'completed');

    expect(done).toMatchObject({ total: 8, accepted: 6, failed: 2, skipped: 0, deferred: 0 });
    const counts = countByRecipient(smtp);
    for (const { email } of subscribers) expect(counts.get(email), email).toBe(1);
    for (const email of dropped) expect(smtp.rcptAttempts.get(email), email).toBe(1);
    const droppedIds = subscribers.filter((s) => dropped.includes(s.email)).map((s) => s.id);
    for (const subscriberId of droppedIds) {
      expect(await harness.app.campaigns.ledgerEntry(id, subscriberId)).toMatchObject({
        outcome: 'failed',
        detail: expect.stringMatching(`^${OUTCOME_UNKNOWN}: `),
      });
    }
    const deps = campaignDeps(harness.app);
    // `campaign failures` lists them, with the reason.
    const { failures, total } = await campaignFailures(deps, id);
    expect(total).toBe(2);
    expect(failures.map((f) => f.email).sort()).toEqual(dropped);
    for (const f of failures) expect(f.reply).toMatch(/^outcome unknown: .*(closed|reset|ECONN)/i);
    // Counted as failed without a reply, like a worker that died after the end.
    const metrics = await harness.app.fleetMetrics().read();
    expect(metrics[counterField(MESSAGES, { outcome: 'failed', reply_class: 'none' })]).toBe('2');
    expect(metrics[counterField(MESSAGES, { outcome: 'accepted', reply_class: '2xx' })]).toBe('6');

    // `resend --failed` leaves them out and says so; `--include-unknown` sends them a second copy.
    expect(await resendToFailed(deps, id)).toEqual({ round: 0, recipients: 0, unknownLeftOut: 2 });
    expect(await resendToFailed(deps, id, { includeUnknown: true })).toEqual({ round: 1, recipients: 2, unknownLeftOut: 0 });
    const again = await harness.waitFor((c) => c.state === 'completed' && c.accepted === 8);
    expect(again).toMatchObject({ total: 8, accepted: 8, failed: 0 });
    const after = countByRecipient(smtp);
    for (const { email } of subscribers) expect(after.get(email), email).toBe(dropped.includes(email) ? 2 : 1);
  });

  it('lost with the connection is still the relay failing: enough in a row pause the fleet, and each stays outcome unknown', async () => {
    const smtp = await startEndScriptedServer((_to, before) => (before === 0 ? 'drop' : 'answer'));
    harness = await startHarness({ smtp, env: { RELAY_FAILURES_TO_PAUSE: '3', RELAY_PAUSE_MS: '60000', WORKER_CONCURRENCY: '1' } });
    await harness.addSubscribers(3);
    harness.startWorker();
    const { id } = await harness.send();
    const done = await harness.waitFor((c) => c.state === 'completed');
    expect(done).toMatchObject({ total: 3, accepted: 0, failed: 3 });
    expect(smtp.messages).toHaveLength(3);
    expect((await campaignFailures(campaignDeps(harness.app), id)).failures.map((f) => f.reply)).toEqual(
      Array(3).fill(expect.stringMatching(/^outcome unknown: /)),
    );
    expect(await harness.app.relay.read()).toMatchObject({ state: 'open', failures: 3, pauses: 1, reason: expect.stringMatching(/closed/i) });
  });

  it('is not waited for before the end: a server silent to RCPT TO is given up on after SMTP_TIMEOUT_MS, and the message is sent once, later', async () => {
    const smtp = await startEndScriptedServer(
      () => 'answer',
      (to, attempt) => to === 'r1@example.org' && attempt === 1,
    );
    harness = await startHarness({ smtp, env: { SMTP_TIMEOUT_MS: '300', SMTP_DATA_TIMEOUT_MS: '60000' } });
    const subscribers = await harness.addSubscribers(4);
    harness.startWorker();
    await harness.send();
    const done = await harness.waitFor((c) => c.state === 'completed');
    expect(done).toMatchObject({ total: 4, accepted: 4, failed: 0 });
    expect(smtp.rcptAttempts.get('r1@example.org')).toBe(2);
    const counts = countByRecipient(smtp);
    for (const { email } of subscribers) expect(counts.get(email), email).toBe(1);
  });

  it('never comes: after SMTP_DATA_TIMEOUT_MS the recipient is failed, outcome unknown, and not sent again', async () => {
    const smtp = await startEndScriptedServer(first(['r3@example.org'], 'silent'));
    harness = await startHarness({ smtp, env: { SMTP_TIMEOUT_MS: '300', SMTP_DATA_TIMEOUT_MS: '1000' } });
    const subscribers = await harness.addSubscribers(5);
    harness.startWorker();
    const { id } = await harness.send();
    const done = await harness.waitFor((c) => c.state === 'completed');

    expect(done).toMatchObject({ total: 5, accepted: 4, failed: 1, skipped: 0, deferred: 0 });
    const counts = countByRecipient(smtp);
    for (const { email } of subscribers) expect(counts.get(email), email).toBe(1);
    expect(smtp.rcptAttempts.get('r3@example.org')).toBe(1);
    const silent = subscribers.find((s) => s.email === 'r3@example.org')!;
    expect(await harness.app.campaigns.ledgerEntry(id, silent.id)).toMatchObject({
      outcome: 'failed',
      detail: expect.stringMatching(/^outcome unknown: .*timeout/i),
    });
    expect(smtp.ends.find((e) => e.to === 'r3@example.org')?.answeredAt).toBeUndefined();
    expect(await resendToFailed(campaignDeps(harness.app), id)).toMatchObject({ recipients: 0, unknownLeftOut: 1 });
  });
});
