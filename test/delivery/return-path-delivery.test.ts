import { afterEach, describe, expect, it } from 'vitest';
import { campaignRef, CONFIRM_REF, readReturnPath, TEST_REF } from '../../src/delivery/return-path.ts';
import { campaignDeps, sendTest } from '../../src/operations/campaign-operations.ts';
import { buildWebServer } from '../../src/processes/web-server.ts';
import { signingSecrets } from '../../src/subscribers/signing-secrets.ts';
import { startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { parseMessage } from '../helpers/parse-mime.ts';
import { deliveryIssue } from '../fixtures/delivery-issue.ts';

const DOMAIN = 'bounces.news.example.org';
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('the return path on the wire (BOUNCE_DOMAIN set)', () => {
  it("gives every campaign message its recipient's signed return path as MAIL FROM, and the List-Unsubscribe mailto on that domain", async () => {
    harness = await startHarness({ env: { BOUNCE_DOMAIN: DOMAIN } });
    const subscribers = await harness.addSubscribers(3);
    await harness.send();
    harness.startWorker();
    await harness.waitFor((c) => c.state === 'completed');
    const secrets = signingSecrets(harness.app.config);
    expect(harness.smtp.messages).toHaveLength(3);
    for (const message of harness.smtp.messages) {
      const subscriber = subscribers.find((s) => s.email === message.to[0])!;
      expect(readReturnPath(secrets, message.from, DOMAIN)).toEqual({ ok: true, ref: campaignRef(harness.campaignId), subscriberId: subscriber.id });
      expect(parseMessage(message.raw).headers.get('list-unsubscribe')).toMatch(
        /<mailto:unsubscribe@bounces\.news\.example\.org\?subject=unsubscribe-[\w-]+\.[\w-]+>/,
      );
    }
  });

  it('gives a test send and a confirmation email a return path too', async () => {
    harness = await startHarness({ env: { BOUNCE_DOMAIN: DOMAIN } });
    const secrets = signingSecrets(harness.app.config);
    await sendTest(campaignDeps(harness.app), { ...deliveryIssue, mjml: '', warnings: [] }, 'editor@example.org');
    const server = await buildWebServer(harness.app);
    try {
      const answer = await server.inject({ method: 'POST', url: '/subscribe', payload: { email: 'new@example.org' }, headers: { accept: 'application/json' } });
      expect(answer.statusCode).toBeLessThan(300);
      await harness.smtp.waitForMessages(2);
    } finally {
      await server.close();
    }
    const [test, confirmation] = harness.smtp.messages;
    expect(readReturnPath(secrets, test!.from, DOMAIN)).toMatchObject({ ok: true, ref: TEST_REF });
    const pending = await harness.app.subscribers.getByEmail('new@example.org');
    expect(readReturnPath(secrets, confirmation!.from, DOMAIN)).toEqual({ ok: true, ref: CONFIRM_REF, subscriberId: pending!.id });
  });

  it('leaves the envelope sender as the From address without BOUNCE_DOMAIN', async () => {
    harness = await startHarness();
    await harness.addSubscribers(1);
    await harness.send();
    harness.startWorker();
    await harness.waitFor((c) => c.state === 'completed');
    expect(harness.smtp.messages[0]!.from).toBe(harness.app.config.identity.fromAddress);
  });
});
