import type { Command } from 'commander';
import { createApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { portFlag } from '../command-helpers.ts';
import { NewsletterError, isNewsletterError } from '../../errors.ts';
import { adminApiDeps } from '../../http/admin-api.ts';
import { createServer } from '../../http/server.ts';
import { createLogger } from '../../logger.ts';
import { metricsRecorder } from '../../metrics/metric-tally.ts';
import { appScrapeSources } from '../../metrics/scrape-registry.ts';
import { signingSecrets } from '../../subscribers/signing-secrets.ts';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description(
      'Run the web server: one-click unsubscribe, subscribe with double opt-in, /healthz; with NEWSLETTER_ADMIN_TOKEN also the admin API (/api) and the queue dashboard (/admin/queues)',
    )
    .option('--port <port>', 'port to listen on (default: PORT, 3000)')
    .option('--host <host>', 'address to listen on (default: HOST, 127.0.0.1)')
    .action(async (flags: { port?: string; host?: string }) => {
      const config = loadConfig();
      const port = flags.port === undefined ? config.http.port : portFlag(flags.port);
      const host = flags.host ?? config.http.host;
      // Refuse before connecting anywhere: without a secret, tokens could be forged.
      const secrets = signingSecrets(config);
      const log = createLogger(config, { name: 'web' });
      if (!config.secrets.current) log.warn('dev mode: tokens are signed with a PUBLIC secret; never run like this in production');
      if (!config.devMode && !config.http.publicUrl.startsWith('https://')) {
        log.warn({ publicUrl: config.http.publicUrl }, 'PUBLIC_URL is not https: mailbox providers ignore one-click unsubscribe links that are not https');
      }
      const app = await createApp(config, { warn: (message) => log.warn(message) });
      let mailer;
      try {
        mailer = app.mailer();
      } catch (error) {
        if (!isNewsletterError(error, 'SMTP_NOT_CONFIGURED')) throw error;
        log.warn('SMTP_URL is not set: POST /subscribe answers 503 until it is');
      }
      const adminToken = config.admin.token;
      const fleet = app.fleetMetrics();
      const server = await createServer({
        subscribers: app.subscribers,
        secrets,
        publicUrl: config.http.publicUrl,
        identity: config.identity,
        mailer,
        ping: () => app.redis.ping(),
        rateLimitStore: { redis: app.redis, prefix: config.redis.prefix },
        logger: log,
        unsubscribeMetrics: metricsRecorder(fleet.tally),
        metrics: adminToken ? { adminToken, sources: appScrapeSources(app) } : undefined,
        archive: { campaigns: app.campaigns, language: config.identity.language },
        trustProxy: config.http.trustProxy,
        admin: adminApiDeps(app),
      });
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        server.log.info({ signal }, 'shutting down');
        // Stop taking requests and finish confirmation emails in flight, then SMTP and Redis.
        await server.close();
        await app.close();
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));
      try {
        await server.listen({ port, host });
      } catch (cause) {
        await app.close();
        throw new NewsletterError('CONFIG_INVALID', `cannot listen on ${host}:${port}: ${(cause as Error).message}`, { field: 'PORT', cause });
      }
    });
}
