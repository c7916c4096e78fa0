/**
 * When the archive publishes an issue, with a real campaign: enqueued, then delivered by a
 * real delivery worker through the in-process SMTP server, read back through the web server
 * as `newsletter server` builds it. A campaign that has reached nobody yet must not be
 * public (a "view in browser" page for a message nobody has): the issue appears once the
 * first message is accepted, or once the campaign completes.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildWebServer } from '../../src/processes/web-server.ts';
import { startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';

const SLUG = deliveryIssue.slug;
let harness: Harness | undefined;
let server: FastifyInstance | undefined;

afterEach(async () => {
  await server?.close();
  await harness?.close();
  server = harness = undefined;
});

async function start(options: Parameters<typeof startHarness>[0]) {
  harness = await startHarness(options);
  server = await buildWebServer(harness.app);
  const base = await server.listen({ port: 0, host: '127.0.0.1' });
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: await response.text() };
  };
  /** Where the issue shows: its page, its page by campaign id, the index, the feed. */
  const visible = async () => ({
    page: (await get(`/issues/${SLUG}`)).status,
    byCampaignId: (await get(`/issues/${harness!.campaignId}`)).status,
    index: (await get('/issues')).body.includes(`/issues/${SLUG}"`),
    feed: (await get('/feed.xml')).body.includes(`/issues/${SLUG}<`),
  });
  return { h: harness, visible };
}

const HIDDEN = { page: 404, byCampaignId: 404, index: false, feed: false };
const SHOWN = { page: 200, byCampaignId: 200, index: true, feed: true };

describe('the archive publishes an issue', () => {
  it('not while its campaign has reached nobody, and as soon as the first message is accepted', async () => {
    // r0 is accepted at once; everyone else is deferred and waits a minute before the next attempt.
    const deferred = ['r1@example.org', 'r2@example.org', 'r3@example.org', 'r4@example.org'];
    const { h, visible } = await start({ script: { deferFirst: deferred }, env: { SEND_BACKOFF_MS: '60000', WORKER_CONCURRENCY: '1' } });
    await h.addSubscribers(5);
    const campaign = await h.send();
    expect(campaign).toMatchObject({ state: 'running', accepted: 0 });

    expect(await visible()).toEqual(HIDDEN);

    h.startWorker();
    const reached = await h.waitFor((c) => c.accepted === 1 && c.deferred === deferred.length);
    expect(reached.state).toBe('running');
    // The index and the feed are cached for a few seconds; the page of a missed issue is read again at once.
    await expect.poll(visible, { timeout: 10_000, interval: 250 }).toEqual(SHOWN);
    expect((await h.app.campaigns.require(h.campaignId)).accepted).toBe(1);
  });

  it('when its campaign completes, even if nobody accepted it', async () => {
    const { h, visible } = await start({ onRcpt: () => ({ code: 550, message: '5.7.1 Relaying denied' }) });
    await h.addSubscribers(3);
    await h.send();
    expect(await visible()).toEqual(HIDDEN);
    h.startWorker();
    expect(await h.waitFor((c) => c.state === 'completed')).toMatchObject({ accepted: 0, failed: 3 });
    await expect.poll(visible, { timeout: 10_000, interval: 250 }).toEqual(SHOWN);
  });
});
