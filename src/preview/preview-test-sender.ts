/**
 * "Send a test" from the preview is the operation behind `newsletter send --test-to` and the
 * admin API's testTo: same snapshot (view URL), same subscriber lookup for the unsubscribe
 * link, same SMTP pool. The app (Redis, SMTP) is opened on the first send,
 * so previewing alone needs neither.
 */
import { createApp, type App } from '../app.ts';
import type { Config } from '../config.ts';
import { campaignDeps, sendTest } from '../operations/campaign-operations.ts';
import type { Issue } from '../render/issue.ts';
import { normalizeEmail } from '../subscribers/email-address.ts';
import { signingSecrets } from '../subscribers/signing-secrets.ts';
import type { TestSender } from './preview-server.ts';

/** Why tests cannot be sent with this config, or undefined when they can. */
export function sendTestUnavailable(config: Config): string | undefined {
  if (!config.smtp.url) {
    return 'Set SMTP_URL (for example smtp://localhost:1025, or your provider’s smtps:// URL) in the environment or .env, then restart `newsletter preview`. Redis (REDIS_URL) and NEWSLETTER_SECRET (or NEWSLETTER_DEV_MODE=1) are needed too, as for `newsletter send --test-to`.';
  }
  if (!config.secrets.current && !config.devMode) {
    return 'Set NEWSLETTER_SECRET (or NEWSLETTER_DEV_MODE=1 on your own machine) so the test’s unsubscribe link can be signed, then restart `newsletter preview`.';
  }
  return undefined;
}

export function createPreviewTestSender(config: Config, openApp: () => Promise<App> = () => createApp(config, { warn: () => {} })): TestSender {
  let app: Promise<App> | undefined;
  return {
    async send(issue: Issue, to: string) {
      const address = normalizeEmail(to, { field: 'address' });
      const secrets = signingSecrets(config);
      // A failed start (Redis down) is not remembered: the next click tries again.
      app ??= openApp().catch((error: unknown) => {
        app = undefined;
        throw error;
      });
      const deps = { ...campaignDeps(await app), identity: config.identity, publicUrl: config.http.publicUrl, secrets: () => secrets };
      return sendTest(deps, issue, address, 'address');
    },
    async close() {
      const opened = await app?.catch(() => undefined);
      await opened?.close();
    },
  };
}
