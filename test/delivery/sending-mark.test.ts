/**
 * The "sending" mark across Redis trouble right before the end of a message: a mark that
 * outlived an attempt which never sent the end would read "outcome unknown", and that recipient
 * would never get the issue. Real Redis (the shared test Redis, a port where none answers, a
 * TCP proxy that loses one reply) and a real SMTP server.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverOne, type DeliverOneDeps } from '../../src/delivery/deliver-one.ts';
import { DeliveryLedger } from '../../src/delivery/ledger.ts';
import { buildMessageTemplate } from '../../src/delivery/message-template.ts';
import { recipientLinks } from '../../src/delivery/recipient-links.ts';
import { freePort } from '../../src/redis/private-redis-server.ts';
import { isRedisError } from '../../src/redis/redis-errors.ts';
import { signingSecrets } from '../../src/subscribers/signing-secrets.ts';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { TEST_REDIS_URL } from '../helpers/redis.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

let harness: Harness | undefined;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await harness?.close();
  harness = undefined;
});

/**
 * A proxy to the test Redis that loses the first non-error reply to a command naming `key`: it
 * drops that reply and cuts the connection, as a primary SIGKILLed right after running the
 * command would. The command ran; the client never heard.
 */
async function proxyLosingOneReply(key: string): Promise<{ url: string; lost: () => number }> {
  const target = new URL(TEST_REDIS_URL);
  let armed = true;
  let lost = 0;
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) }, ({ client, upstream, cut }) => {
    let awaitingReply = false;
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk.includes(key)) awaitingReply = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      // NOSCRIPT (the script not loaded yet) passes: the client then sends the script itself.
      if (awaitingReply && chunk[0] !== '-'.charCodeAt(0)) {
        armed = false;
        awaitingReply = false;
        lost++;
        cut();
        return;
      }
      client.write(chunk);
    });
  });
  cleanups.push(() => proxy.close());
  return { url: `redis://127.0.0.1:${proxy.port}`, lost: () => lost };
}

/** deliverOne's dependencies on the harness's Redis and SMTP server, with the directory given. */
async function deliveryDeps(h: Harness, directory: DeliverOneDeps['directory']): Promise<DeliverOneDeps> {
  const { config } = h.app;
  return {
    ledger: new DeliveryLedger({ redis: h.app.redis, prefix: h.prefix, replyRetryMs: 2_000 }),
    directory,
    transport: h.app.smtpPool(),
    rateLimiter: undefined,
    links: recipientLinks(signingSecrets(config).current, config.http.publicUrl, config.identity),
    now: () => new Date(),
  };
}

async function templateOf(h: Harness) {
  const [campaign, snapshot] = await Promise.all([h.app.campaigns.require(h.campaignId), h.app.campaigns.getSnapshot(h.campaignId)]);
  return buildMessageTemplate({
    issue: snapshot!,
    identity: h.app.config.identity,
    campaignId: h.campaignId,
    date: new Date(campaign.createdAt),
    viewUrl: snapshot!.viewUrl,
  });
}

describe('the "sending" mark when Redis fails right before the end of a message', () => {
  it('a mark whose reply was lost with the connection, and which the client sent again, is still this attempt\'s: "ok", not another attempt\'s', async () => {
    harness = await startHarness();
    const [subscriber] = await harness.addSubscribers(1);
    await harness.send();
    const { sending } = harness.app.campaigns.keys(harness.campaignId);
    const proxy = await proxyLosingOneReply(sending);
    // As the app's clients do after a reconnect (a Sentinel's promoted replica; a Cluster does the
    // same after a failover): commands sent and not answered are sent again.
    const client = new Redis(proxy.url, { maxRetriesPerRequest: 3 });
    cleanups.push(() => client.disconnect());
    const ledger = new DeliveryLedger({ redis: client, prefix: harness.prefix });

    const mark = await ledger.markSending(harness.campaignId, subscriber!.id, new Date());
    expect(proxy.lost()).toBe(1);
    expect(mark.result).toBe('ok');
    expect(await harness.app.redis.hlen(sending)).toBe(1);
    // Another attempt meanwhile finds it marked, and its take-back would not remove this mark.
    const other = await ledger.markSending(harness.campaignId, subscriber!.id, new Date());
    expect(other.result).toBe('marked');
    await other.takeBack();
    expect(await ledger.precheck(harness.campaignId, subscriber!.id)).toMatchObject({ outcomeUnknown: true });
    // This attempt's own take-back does.
    await mark.takeBack();
    expect(await ledger.precheck(harness.campaignId, subscriber!.id)).toMatchObject({ settled: false, outcomeUnknown: false });
  });

  it("the subscriber's read failing once the mark is set (their keys' shard down, the campaign's up): the end never goes, the mark is taken back, and the next attempt sends exactly once", async () => {
    harness = await startHarness();
    const [subscriber] = await harness.addSubscribers(1);
    await harness.send();
    const template = await templateOf(harness);
    // The subscribers' Redis, for this attempt: an address where no Redis answers any more.
    const down = new Redis(`redis://127.0.0.1:${await freePort()}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on('error', () => {}); // it is meant to refuse
    cleanups.push(() => down.disconnect());
    const shardDown = new SubscriberStore({ redis: down, prefix: harness.prefix });
    const input = {
      campaignId: harness.campaignId,
      template,
      subscriberId: subscriber!.id,
      recipient: { email: subscriber!.email, status: 'active' as const },
      lastAttempt: false,
    };

    const first = deliverOne(await deliveryDeps(harness, shardDown), input);
    const error = await first.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRedisError(error)).toBe(true);
    expect(harness.smtp.messages).toHaveLength(0);
    expect(await harness.app.redis.hlen(harness.app.campaigns.keys(harness.campaignId).sending)).toBe(0);

    // The batch's next run, with the subscribers' Redis back.
    const deps = await deliveryDeps(harness, harness.app.subscribers);
    expect(await deps.ledger.precheck(harness.campaignId, subscriber!.id)).toMatchObject({ settled: false, outcomeUnknown: false });
    expect(await deliverOne(deps, input)).toBe('accepted');
    expect(harness.smtp.messages.map((m) => m.to)).toEqual([[subscriber!.email]]);
    expect(await harness.app.campaigns.require(harness.campaignId)).toMatchObject({ accepted: 1, failed: 0, state: 'completed' });
  });
});
