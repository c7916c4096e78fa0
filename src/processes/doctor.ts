/**
 * `newsletter doctor` as a process: the real adapters (DNS through DNS_SERVERS, one SMTP session,
 * two requests to PUBLIC_URL, the newsletter's Redis, a message built from a post) wired into
 * src/doctor's checks. Redis is opened through the composition root without its start-up safety
 * check, which doctor reports as findings instead of refusing.
 */
import { randomBytes } from 'node:crypto';
import { createApp, type App } from '../app.ts';
import type { Config } from '../config.ts';
import { returnPathFor, TEST_REF } from '../delivery/return-path.ts';
import { createDnsLookup } from '../doctor/adapters/dns-resolver.ts';
import { getHealthz, postOneClick } from '../doctor/adapters/http-probe.ts';
import { examplePost, readMailFacts } from '../doctor/adapters/mail-facts.ts';
import { readRedisFacts } from '../doctor/adapters/redis-facts.ts';
import { resolveHost } from '../doctor/adapters/resolve-host.ts';
import { probeSmtp } from '../doctor/adapters/smtp-probe.ts';
import type { CheckResult } from '../doctor/check.ts';
import { domainOf, runChecks } from '../doctor/run-checks.ts';
import { DEV_SECRET, signingSecrets } from '../subscribers/signing-secrets.ts';
import { createToken, unsubscribeUrl } from '../subscribers/tokens.ts';

/** Longest doctor waits for the relay or the web server: it is a check, not a delivery. */
const PROBE_TIMEOUT_MS = 15_000;

function secretOf(config: Config): string | undefined {
  try {
    return signingSecrets(config).current;
  } catch {
    return undefined;
  }
}

function redisSecrets({ redis: { url, topology } }: Config): string[] {
  const inUrl = /^[^:]+:\/\/[^:@/]*:([^@/]*)@/.exec(url)?.[1];
  const sentinel = topology.kind === 'sentinel' ? topology.sentinelPassword : undefined;
  return [inUrl, topology.password, sentinel].filter((value): value is string => Boolean(value));
}

/** Every value doctor must never print. */
export function secretsOf(config: Config): (string | undefined)[] {
  const smtp = config.smtp.url ? new URL(config.smtp.url) : undefined;
  const imap = config.bounces.imapUrl ? new URL(config.bounces.imapUrl) : undefined;
  return [
    config.secrets.current,
    config.secrets.previous,
    config.admin.token,
    config.smtp.dkim?.privateKey,
    ...(config.smtp.dkim?.privateKey.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----')) ?? []),
    ...[smtp, imap].flatMap((url) => (url?.password ? [url.password, decodeURIComponent(url.password)] : [])),
    ...redisSecrets(config),
  ];
}

export async function runDoctor(config: Config, { cwd }: { cwd: string }): Promise<CheckResult[]> {
  const dns = createDnsLookup(config.dns.servers);
  const resolve = resolveHost(dns);
  const secret = secretOf(config);
  let app: App | undefined;
  let redisError: string | undefined;
  try {
    app = await createApp(config, { warn: () => {}, checkRedisSafety: false });
  } catch (error) {
    redisError = (error as Error).message;
  }
  const fromDomain = domainOf(config.identity.fromAddress);
  const { smtp, bounces, http } = config;
  try {
    return await runChecks({
      config,
      dns,
      probeSmtp: smtp.url
        ? () =>
            probeSmtp({
              url: smtp.url!,
              resolve,
              // The envelope sender a campaign's message has: the signed return path, or From.
              mailFrom: bounces.domain ? returnPathFor(secret ?? DEV_SECRET, bounces.domain, TEST_REF, 'doctor') : config.identity.fromAddress,
              rcptTo: `postmaster@${fromDomain}`,
              allowSelfSigned: smtp.allowSelfSigned,
              timeoutMs: Math.min(smtp.timeoutMs, PROBE_TIMEOUT_MS),
              clientName: fromDomain,
            })
        : undefined,
      getHealthz: () => getHealthz(http.publicUrl, resolve, PROBE_TIMEOUT_MS),
      // A subscriber id no real one can be (those are 16 characters): the server finds nobody and changes nothing.
      postOneClick: secret
        ? () =>
            postOneClick(
              unsubscribeUrl(http.publicUrl, createToken(secret, `doctor-probe-${randomBytes(8).toString('hex')}`, 'unsubscribe')),
              resolve,
              PROBE_TIMEOUT_MS,
            )
        : { skip: 'NEWSLETTER_SECRET is not set (and not NEWSLETTER_DEV_MODE): doctor cannot sign a token the web server would accept' },
      redisFacts: async () => (app ? readRedisFacts(app.redis, config.redis.prefix) : { error: redisError ?? 'not connected' }),
      mailFacts: async () => {
        const post = await examplePost(config.postsDir);
        if (!post) return { skip: `no post (.md) in POSTS_DIR (${config.postsDir})` };
        return readMailFacts(config, post, secret ?? DEV_SECRET, cwd);
      },
    });
  } finally {
    await app?.close();
  }
}
