import { afterEach, describe, expect, it } from 'vitest';
import { IDLE, startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { runCli } from '../helpers/run-cli.ts';
import { decodeHeaderWords } from '../../src/delivery/mime-encoding.ts';
import { parseMessage } from '../helpers/parse-mime.ts';

const POST = 'emails/posts/sofa-weekly-2019-11-01.md';
const CAMPAIGN = 'sofa-weekly-2019-11-01--weekly';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const cli = (args: string[], env: Record<string, string>) => runCli(args, { env });

describe('newsletter send and campaign commands', () => {
  it('send --wait --json renders the seed post, sends to the list and prints the final counters', async () => {
    harness = await startHarness({ script: { reject: ['r2@example.org'] } });
    await harness.addSubscribers(4);
    await harness.app.subscribers.add({ email: 'other@example.org', lists: ['other'] });
    harness.startWorker();
    const sent = await cli(['send', POST, '--list', 'weekly', '--wait', '--json'], harness.env);
    expect(sent.stderr).not.toMatch(/Error/);
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout.trim().split('\n').at(-1)!)).toEqual({ campaignId: CAMPAIGN, total: 4, accepted: 3, failed: 1, skipped: 0 });
    expect(harness.smtp.messages).toHaveLength(3);
    const parsed = parseMessage(harness.smtp.messages[0]!.raw);
    expect(decodeHeaderWords(parsed.headers.get('subject')!)).toContain('SOFA Weekly');
    expect(parsed.html).toContain('SOFAJRaft');

    const failures = await cli(['campaign', 'failures', CAMPAIGN, '--json'], harness.env);
    expect(JSON.parse(failures.stdout)).toEqual([expect.objectContaining({ email: 'r2@example.org', reply: expect.stringMatching(/^550 5\.1\.1/) })]);
    const list = await cli(['campaign', 'list', '--json'], harness.env);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: CAMPAIGN, state: 'completed', total: 4 })]);
    const pause = await cli(['campaign', 'pause', CAMPAIGN], harness.env);
    expect(pause.code).toBe(1);
    expect(pause.stderr).toMatch(/completed.*\[CAMPAIGN_STATE_INVALID\]/);
    const again = await cli(['send', POST, '--list', 'weekly'], harness.env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/CAMPAIGN_STATE_INVALID/);
    // Had the refused send queued anything, it would be sent before the workers fall idle.
    await expect.poll(() => harness!.batches()).toEqual(IDLE);
    expect(harness.smtp.messages).toHaveLength(3);
  });

  it('--dry-run counts active recipients and sends nothing; --test-to sends one marked message outside any campaign', async () => {
    harness = await startHarness();
    const [first] = await harness.addSubscribers(3);
    await harness.app.subscribers.unsubscribe(first!.id, 'test');
    const dry = await cli(['send', POST, '--list', 'weekly', '--dry-run', '--json'], harness.env);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, recipients: 2, list: 'weekly' });
    const test = await cli(['send', POST, '--test-to', 'editor@example.org'], harness.env);
    expect(test.code).toBe(0);
    expect(harness.smtp.messages.map((m) => m.to)).toEqual([['editor@example.org']]);
    const parsed = parseMessage(harness.smtp.messages[0]!.raw);
    expect(parsed.headers.get('x-newsletter-test')).toBe('yes');
    expect(decodeHeaderWords(parsed.headers.get('subject')!)).toMatch(/^\[TEST\] /);
    expect(await harness.app.campaigns.list()).toEqual([]);
  });

  it('refuses bad input with one clear line and a non-zero exit, creating nothing', async () => {
    harness = await startHarness();
    const noList = await cli(['send', POST], harness.env);
    expect(noList.code).toBe(1);
    expect(noList.stderr).toMatch(/--list.*\[INPUT_INVALID\]/);
    const resend = await cli(['campaign', 'resend', 'x'], harness.env);
    expect(resend.code).toBe(1);
    expect(resend.stderr).toMatch(/--failed.*\[INPUT_INVALID\]/);
    const unknown = await cli(['campaign', 'status', 'nope'], harness.env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/\[CAMPAIGN_NOT_FOUND\]/);
    expect(await harness.app.campaigns.list()).toEqual([]);
    expect(harness.smtp.messages).toHaveLength(0);
  });
});
