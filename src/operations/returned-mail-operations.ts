/**
 * Returned mail for every edge: the dependencies the inbound process hands
 * createReturnedMailProcessor, built once from an App, and what an operator reads of the mail
 * that matched nobody.
 */
import type { App } from '../app.ts';
import type { ReturnedMailDeps } from '../inbound/process-returned-mail.ts';
import { ReturnedMailStore, type UnmatchedMail } from '../inbound/returned-mail-store.ts';
import type { Logger } from '../logger.ts';
import { metricsRecorder } from '../metrics/metric-tally.ts';
import { signingSecrets } from '../subscribers/signing-secrets.ts';

/** Everything the processor takes, from the App's stores, config and fleet metrics. */
export function returnedMailDeps(app: App, log?: Logger): ReturnedMailDeps {
  const { bounces, redis } = app.config;
  return {
    campaigns: app.campaigns,
    subscribers: app.subscribers,
    secrets: signingSecrets(app.config),
    bounceDomain: bounces.domain,
    soft: { limit: bounces.softLimit, window: bounces.softWindow },
    now: () => new Date(),
    log,
    returnedMail: new ReturnedMailStore({ redis: app.redis, prefix: redis.prefix }),
    metrics: metricsRecorder(app.fleetMetrics().tally),
  };
}

/** The newest mail that matched nobody, newest first, each with its first 64 KiB while kept (the newest 100). */
export function unmatchedMail(app: Pick<App, 'redis' | 'config'>, limit = 100): Promise<(UnmatchedMail & { raw?: Buffer })[]> {
  return new ReturnedMailStore({ redis: app.redis, prefix: app.config.redis.prefix }).recentUnmatched(limit);
}
