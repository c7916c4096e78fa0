/**
 * The web server process (`newsletter server`): unsubscribe and subscribe pages, the archive,
 * /healthz, and with NEWSLETTER_ADMIN_TOKEN the admin API, the queue dashboard and /metrics.
 * buildWebServer wires src/http's createServer from an App (the tests build it the same way);
 * runWebServer is the whole process, until SIGTERM/SIGINT.
 */
import type { FastifyInstance } from 'fastify';
import { createApp, type App } from '../app.ts';
import type { Config } from '../config.ts';
import { isNewsletterError, NewsletterError } from '../errors.ts';
import type { AdminApiDeps } from '../http/admin-api.ts';
import { createServer, type ServerDeps } from '../http/server.ts';
import type { MailSender } from '../http/subscribe-routes.ts';
import { createLogger, type Logger } from '../logger.ts';
import { metricsRecorder } from '../metrics/metric-tally.ts';
import { appScrapeSources } from '../metrics/scrape-registry.ts';
import { editorsConsole } from '../console/console-routes.ts';
import { campaignDeps } from '../operations/campaign-operations.ts';
import { signingSecrets } from '../subscribers/signing-secrets.ts';
import { startScheduler } from './scheduler.ts';
import { runUntilSignal } from './until-signal.ts';

export interface WebServerOptions {
  /** Request lines and start-up warnings; none without. */
  log?: Logger;
  /** What a test sets apart from the config: limits, clocks, a smaller import cap. */
  overrides?: Partial<ServerDeps>;
  /** Largest CSV body an admin import reads (default IMPORT_MAX_BYTES). */
  importMaxBytes?: number;
}

/** The admin API's wiring, or undefined (no admin API) when NEWSLETTER_ADMIN_TOKEN is unset. */
function adminApiDeps(app: App, importMaxBytes: number | undefined): AdminApiDeps | undefined {
  const token = app.config.admin.token;
  if (!token) return undefined;
  return { token, operations: campaignDeps(app), postsDir: app.config.postsDir, metrics: metricsRecorder(app.fleetMetrics().tally), importMaxBytes };
}

/** Confirmation emails need SMTP; without SMTP_URL the subscribe form answers 503 and says why. */
function mailerOrNone(app: App, log: Logger | undefined): MailSender | undefined {
  try {
    return app.mailer();
  } catch (error) {
    if (!isNewsletterError(error, 'SMTP_NOT_CONFIGURED')) throw error;
    log?.warn('SMTP_URL is not set: POST /subscribe answers 503 until it is');
    return undefined;
  }
}

/**
 * The web server for this App, unstarted (listen() it). Refuses to build without a signing
 * secret outside dev mode: tokens could be forged. Closing it stops taking requests and
 * finishes confirmation emails in flight; the App is closed by whoever opened it.
 */
export async function buildWebServer(app: App, { log, overrides, importMaxBytes }: WebServerOptions = {}): Promise<FastifyInstance> {
  const { config } = app;
  const secrets = signingSecrets(config);
  const admin = adminApiDeps(app, importMaxBytes);
  return createServer({
    subscribers: app.subscribers,
    secrets,
    publicUrl: config.http.publicUrl,
    identity: config.identity,
    mailer: mailerOrNone(app, log),
    ping: () => app.redis.ping(),
    rateLimitStore: { redis: app.redis, prefix: config.redis.prefix },
    logger: log,
    unsubscribeMetrics: metricsRecorder(app.fleetMetrics().tally),
    metrics: admin ? { adminToken: admin.token, sources: appScrapeSources(app) } : undefined,
    archive: { campaigns: app.campaigns, language: config.identity.language },
    trustProxy: config.http.trustProxy,
    bounceDomain: config.bounces.domain,
    admin,
    adminConsole: admin
      ? (scope) =>
          editorsConsole(scope, {
            token: admin.token,
            operations: admin.operations,
            postsDir: admin.postsDir,
            metrics: admin.metrics,
            now: overrides?.now ?? (() => new Date()),
          })
      : undefined,
    ...overrides,
  });
}

/** Warnings an operator should see at start: a public secret, a PUBLIC_URL mailbox providers ignore. */
function startupWarnings(config: Config, log: Logger): void {
  if (!config.secrets.current) log.warn('dev mode: tokens are signed with a PUBLIC secret; never run like this in production');
  if (!config.devMode && !config.http.publicUrl.startsWith('https://')) {
    log.warn({ publicUrl: config.http.publicUrl }, 'PUBLIC_URL is not https: mailbox providers ignore one-click unsubscribe links that are not https');
  }
}

/** The whole process: listens on host:port until SIGTERM/SIGINT, then closes the server and the App. */
export async function runWebServer(config: Config, { port = config.http.port, host = config.http.host }: { port?: number; host?: string } = {}): Promise<void> {
  // Refuse before connecting anywhere: without a secret, tokens could be forged.
  signingSecrets(config);
  const log = createLogger(config, { name: 'web' });
  startupWarnings(config, log);
  const app = await createApp(config, { warn: (message) => log.warn(message) });
  let server: FastifyInstance | undefined;
  await runUntilSignal({
    what: 'web server',
    log,
    async start() {
      server = await buildWebServer(app, { log });
      try {
        await server.listen({ port, host });
      } catch (cause) {
        throw new NewsletterError('CONFIG_INVALID', `cannot listen on ${host}:${port}: ${(cause as Error).message}`, { field: 'PORT', cause });
      }
      startScheduler(app, { log });
    },
    async stop() {
      // Stop taking requests and finish confirmation emails in flight, then SMTP and Redis.
      await server?.close();
      await app.close();
    },
  });
}
