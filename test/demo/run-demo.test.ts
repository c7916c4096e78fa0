/**
 * `newsletter demo` for real: shared Redis under a unique prefix, two worker processes,
 * the capture SMTP server writing .eml files into a temporary outbox. Run twice to show
 * it starts from nothing each time.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CampaignStore } from '../../src/campaign/campaign-store.ts';
import { sampleSubscribers } from '../../src/demo/sample-subscribers.ts';
import { DEMO_LIST, demoSummary, runDemo, type DemoResult } from '../../src/processes/demo.ts';
import { isNewsletterError } from '../../src/errors.ts';
import { parseCapturedMessage } from '../../src/preview/captured-message.ts';
import { SubscriberStore } from '../../src/subscribers/subscriber-store.ts';
import { parseMessage } from '../helpers/parse-mime.ts';
import { freePort, redisAnswers } from '../../src/redis/private-redis-server.ts';
import { waitWithProgress } from '../../src/cli/commands/campaign-progress.ts';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const SUBJECT = 'SOFA Weekly | 每周精选【10/28 - 11/01】';
const COUNT = 12;
const prefix = uniquePrefix('demo');
const env = { REDIS_URL: TEST_REDIS_URL };
const watch = (campaigns: CampaignStore, id: string) => waitWithProgress(campaigns, id, { show: false });
let outbox: string;
let redis: Awaited<ReturnType<typeof connectTestRedis>>;

beforeAll(async () => {
  outbox = await mkdtemp(join(tmpdir(), 'nl-demo-'));
  redis = await connectTestRedis(prefix);
});
afterAll(async () => {
  await redis.cleanup();
  await rm(outbox, { recursive: true, force: true });
});

async function emlFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.eml')).map((name) => join(dir, name));
}

describe('newsletter demo', () => {
  let first: DemoResult;

  it('sends the example issue to every sample subscriber through real workers, one .eml each', async () => {
    first = await runDemo({ prefix, outboxDir: outbox, subscribers: COUNT, env, watch });
    const { campaign } = first;
    expect(campaign).toMatchObject({ state: 'completed', list: DEMO_LIST, total: COUNT, accepted: COUNT, failed: 0, skipped: 0, deferred: 0 });

    const files = await emlFiles(first.runDir);
    expect(files.sort()).toEqual([...first.files].sort());
    const recipients: string[] = [];
    for (const file of files) {
      const raw = await readFile(file, 'utf8');
      const message = parseCapturedMessage(raw);
      const reference = parseMessage(raw);
      recipients.push(message.to);
      expect(message.subject).toBe(SUBJECT);
      expect(reference.headers.get('list-unsubscribe')).toMatch(/^<http:\/\/localhost:3000\/unsubscribe\/[\w-]+\.[\w-]+>, <mailto:/);
      expect(reference.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
      expect(message.html).toContain('SOFAJRaft');
    }
    // Exactly one message per sample subscriber: none missing, none twice.
    expect(recipients.sort()).toEqual(
      sampleSubscribers(COUNT)
        .map((s) => s.email)
        .sort(),
    );
    expect(first.unsubscribeUrl).toMatch(/^http:\/\/localhost:3000\/unsubscribe\//);

    const summary = demoSummary(first, '/').join('\n');
    expect(summary).toContain(`${COUNT} accepted, 0 failed, 0 skipped of ${COUNT}`);
    expect(summary).toContain(`${COUNT} messages as .eml files`);
    expect(summary).toContain('npx newsletter preview');
    expect(summary).toContain(first.unsubscribeUrl!);
    // The sample CSV is what went in, non-ASCII names included.
    expect(await readFile(first.csvFile, 'utf8')).toContain('李雷');
  });

  it('clears its own keys and starts again on a second run: nothing doubled', async () => {
    const second = await runDemo({ prefix, outboxDir: outbox, subscribers: COUNT, env, watch });
    expect(second.cleared).toBeGreaterThan(COUNT);
    expect(second.runDir).not.toBe(first.runDir);
    expect(second.campaign).toMatchObject({ state: 'completed', total: COUNT, accepted: COUNT });
    expect(await emlFiles(second.runDir)).toHaveLength(COUNT);
    expect(await emlFiles(first.runDir)).toHaveLength(COUNT);

    const subscribers = new SubscriberStore({ redis: redis.redis, prefix });
    const campaigns = new CampaignStore({ redis: redis.redis, prefix });
    expect(await subscribers.countList(DEMO_LIST)).toBe(COUNT);
    expect(await subscribers.countList()).toBe(COUNT);
    expect((await campaigns.list()).map((c) => c.id)).toEqual([second.campaign.id]);
    // Completed batch jobs are removed; nothing of the first run is left in the queue.
    expect(await redis.redis.keys(`${prefix}:{${prefix}}:q:deliveries:*-b*`)).toEqual([]);
  });

  it('refuses a prefix that is not a demo prefix, and names REDIS_URL when Redis is down, touching nothing', async () => {
    const before = await readdir(outbox);
    await expect(runDemo({ prefix: 'newsletter', outboxDir: outbox, env, watch })).rejects.toSatisfy(
      (error) => isNewsletterError(error, 'INPUT_INVALID') && error.location.field === '--prefix',
    );
    const down = `redis://127.0.0.1:${await freePort()}`;
    await expect(runDemo({ prefix, outboxDir: outbox, env: { ...env, REDIS_URL: down, PATH: '/nonexistent' }, watch })).rejects.toSatisfy(
      (error) =>
        isNewsletterError(error, 'CONFIG_INVALID') &&
        error.location.field === 'REDIS_URL' &&
        /apt-get install redis-server, or brew install redis\) or run `docker compose up redis`/.test(error.message),
    );
    expect(await readdir(outbox)).toEqual(before);
  });

  it('starts a private redis-server for the run when no Redis answers, says so, and stops it afterwards; settings of parts it does not run are not its business', async () => {
    const down = `redis://127.0.0.1:${await freePort()}`;
    const said: string[] = [];
    const result = await runDemo({
      prefix,
      outboxDir: outbox,
      subscribers: 3,
      env: { ...env, REDIS_URL: down, NEWSLETTER_ADMIN_TOKEN: 'short' },
      watch,
      say: (line) => said.push(line),
    });
    expect(result.campaign).toMatchObject({ state: 'completed', total: 3, accepted: 3 });
    const notice = said.find((line) => line.startsWith('no Redis answers at REDIS_URL: started a private redis-server at redis://127.0.0.1:'));
    expect(notice).toBeDefined();
    expect(await redisAnswers(/(redis:\/\/127\.0\.0\.1:\d+)/.exec(notice!)![1]!)).toBe(false);
    expect(result.privateRedis).toBe(true);
    expect(demoSummary(result).join('\n')).not.toContain('npx newsletter server');
  });
});
