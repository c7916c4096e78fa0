/**
 * The preview process (`newsletter preview`): the editor's local pages, rendered on request
 * and refreshed on save. Previewing needs neither Redis nor SMTP; "Send a test" opens an App
 * on its first click (the same operation as `send --test-to` and the admin API's testTo).
 * buildPreview wires src/preview's server from a Config (the tests build it the same way);
 * runPreview is the whole process, until SIGTERM/SIGINT.
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../app.ts';
import type { Config } from '../config.ts';
import { NewsletterError } from '../errors.ts';
import { campaignDeps, sendTest } from '../operations/campaign-operations.ts';
import { postSource, type PostSource } from '../preview/find-posts.ts';
import { openInBrowser } from '../preview/open-browser.ts';
import { OUTBOX_DIR } from '../preview/outbox.ts';
import { createPreviewServer, type TestSender } from '../preview/preview-server.ts';
import type { Issue } from '../render/issue.ts';
import { normalizeEmail } from '../subscribers/email-address.ts';
import { signingSecrets } from '../subscribers/signing-secrets.ts';
import { openLocalApp } from './local-app.ts';
import { runUntilSignal } from './until-signal.ts';

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

/** "Send a test": the address is checked before anything is opened; the App opens on the first send and closes with the preview. */
export function previewTestSender(config: Config, openApp: () => Promise<App>): TestSender {
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
      const deps = { ...campaignDeps(await app), secrets: () => secrets };
      return sendTest(deps, issue, address, 'address');
    },
    async close() {
      const opened = await app?.catch(() => undefined);
      await opened?.close();
    },
  };
}

export interface PreviewOptions {
  source: PostSource;
  baseUrl?: string;
  /** Layouts and partials (default emails/). */
  emailsDir?: string;
  /** Host names besides localhost that may address the preview (the --host it listens on). */
  allowedHosts?: string[];
  watch?: boolean;
  /** The folder of captured .eml files to list (default outbox/). */
  outboxDir?: string;
  /** How "Send a test" opens its App (default: the configured Redis, or a private one for the run when none answers). */
  openApp?: () => Promise<App>;
  /** Where notices go (the private Redis a test send started). */
  say?: (line: string) => void;
}

/** The preview server for this config, unstarted (listen() it). */
export async function buildPreview(config: Config, options: PreviewOptions): Promise<FastifyInstance> {
  const unavailable = sendTestUnavailable(config);
  const openApp = options.openApp ?? (() => openLocalApp(config, { say: options.say }));
  return createPreviewServer({
    source: options.source,
    identity: config.identity,
    publicUrl: config.http.publicUrl,
    emailsDir: options.emailsDir,
    baseUrl: options.baseUrl,
    sendTest: unavailable ? undefined : previewTestSender(config, openApp),
    sendUnavailable: unavailable,
    allowedHosts: options.allowedHosts,
    watch: options.watch,
    outboxDir: options.outboxDir ?? OUTBOX_DIR,
  });
}

export interface RunPreviewOptions {
  /** A post, or a folder of posts. */
  path: string;
  port: number;
  host: string;
  baseUrl?: string;
  /** Open the page in the desktop's browser. */
  open?: boolean;
  say: (line: string) => void;
}

/** The whole process: serves until SIGTERM/SIGINT (Ctrl-C), then closes the server and a test send's App. */
export async function runPreview(config: Config, { path, port, host, baseUrl, open, say }: RunPreviewOptions): Promise<void> {
  const source = await postSource(path);
  const server = await buildPreview(config, { source, baseUrl, allowedHosts: [host.toLowerCase()], say });
  await runUntilSignal({
    what: 'preview',
    async start() {
      try {
        await server.listen({ port, host });
      } catch (cause) {
        throw new NewsletterError('INPUT_INVALID', `cannot listen on ${host}:${port}: ${(cause as Error).message}`, { field: '--port', cause });
      }
      const address = server.server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`;
      say(`previewing ${source.single ?? source.root} at ${url}  (Ctrl-C to stop)`);
      const unavailable = sendTestUnavailable(config);
      if (unavailable) say(`"Send a test" is off: ${unavailable}`);
      if (open) openInBrowser(url);
    },
    stop: () => server.close(),
  });
}
