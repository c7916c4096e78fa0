/**
 * The only reader of process.env and of the identity file. Everything else gets a
 * frozen, validated Config passed in.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { NewsletterError } from './errors.ts';
import { parseRedisTopology, RedisTopologyError, type RedisTopology } from './redis/redis-topology.ts';

// CR or LF in a value that goes into a header would let it add headers of its own.
const headerText = (header: string) =>
  z
    .string()
    .min(1)
    .regex(/^[^\r\n]*$/, `one line: it goes into the ${header} header`);
const httpUrl = () => z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });

const identitySchema = z.object({
  name: headerText('From and List-Id'),
  fromName: headerText('From').optional(),
  fromAddress: z.email(),
  replyTo: z.email().optional(),
  siteUrl: httpUrl(),
  postalAddress: z.string().min(1),
  language: z.string().min(2).default('en'),
  reason: z.string().min(1).default('You receive this email because you subscribed to this newsletter.'),
  /** The zone `send --at` reads a wall time in (an IANA name); unset, the machine's. */
  timezone: z
    .string()
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    }, 'an IANA time zone such as Asia/Shanghai, Europe/London or UTC')
    .optional(),
  listId: z
    .string()
    .min(3)
    .regex(/^[A-Za-z0-9.-]+$/, 'a dot-atom such as weekly.example.com'),
  /** Caps per receiving group or domain: `google: { perSecond: 10, connections: 10 }`; DOMAIN_RATES and DOMAIN_CONNECTIONS override them. */
  domains: z
    .record(z.string(), z.strictObject({ perSecond: z.number().min(0).max(100_000).optional(), connections: z.number().int().min(0).max(10_000).optional() }))
    .superRefine((caps, context) => {
      for (const name of Object.keys(caps))
        if (!/^[a-z0-9.-]+$/.test(name))
          context.addIssue({ code: 'custom', path: [name], message: 'a group (google, microsoft, yahoo, apple, …) or a domain, in lower case' });
    })
    .optional(),
});

/**
 * Conservative caps for the large providers (messages per second, deliveries in flight, for the
 * whole fleet): they share one reputation per sending IP and throttle a burst long before their
 * limits are reached. Overridden per group in newsletter.yaml or DOMAIN_RATES/DOMAIN_CONNECTIONS.
 */
export const DEFAULT_DOMAIN_CAPS: Readonly<Record<string, { perSecond: number; connections: number }>> = {
  google: { perSecond: 10, connections: 10 },
  microsoft: { perSecond: 5, connections: 5 },
  yahoo: { perSecond: 5, connections: 5 },
  apple: { perSecond: 5, connections: 5 },
};

const groupNumbers = (example: string) =>
  z
    .string()
    .regex(/^([a-z0-9.-]+=\d+(\.\d+)?)(,[a-z0-9.-]+=\d+(\.\d+)?)*$/, `group or domain=number, separated by commas: ${example}`)
    .default('');

export type Identity = Omit<z.infer<typeof identitySchema>, 'domains'>;

const intFromEnv = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const envSchema = z.object({
  NEWSLETTER_CONFIG: z.string().default('newsletter.yaml'),
  POSTS_DIR: z.string().min(1).default('emails/posts'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?(\+(sentinel|cluster))?:\/\/\S+$/, 'a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL, e.g. redis://127.0.0.1:6379')
    .default('redis://127.0.0.1:6379'),
  REDIS_SENTINELS: z.string().min(1).optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  REDIS_CLUSTER_NODES: z.string().min(1).optional(),
  REDIS_WAIT_REPLICAS: z.enum(['0', '1']).default('1'),
  REDIS_WAIT_TIMEOUT_MS: intFromEnv(1_000, 10, 60_000),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default('newsletter'),
  SMTP_URL: z
    .url({ protocol: /^smtps?$/, hostname: /^\S+$/, error: 'an smtp:// or smtps:// URL with a host, e.g. smtp://user:pass@mail.example.com:587' })
    .optional(),
  SMTP_MAX_CONNECTIONS: intFromEnv(5, 1, 100),
  SMTP_TIMEOUT_MS: intFromEnv(60_000, 100, 3_600_000),
  SMTP_DATA_TIMEOUT_MS: intFromEnv(600_000, 1_000, 3_600_000),
  SMTP_TLS_ALLOW_SELF_SIGNED: z.enum(['0', '1', 'true', 'false']).default('false'),
  SEND_RATE_PER_SECOND: intFromEnv(0, 0, 100_000),
  SEND_ATTEMPTS: intFromEnv(10, 1, 50),
  SEND_BACKOFF_MS: intFromEnv(30_000, 1, 3_600_000),
  WORKER_CONCURRENCY: intFromEnv(10, 1, 1_000),
  WORKER_LOCK_MS: intFromEnv(30_000, 500, 600_000),
  RELAY_FAILURES_TO_PAUSE: intFromEnv(5, 1, 10_000),
  RELAY_PAUSE_MS: intFromEnv(30_000, 100, 3_600_000),
  RELAY_PAUSE_MAX_MS: intFromEnv(600_000, 100, 86_400_000),
  DOMAIN_PAUSE_MS: intFromEnv(60_000, 100, 3_600_000),
  DOMAIN_PAUSE_MAX_MS: intFromEnv(1_800_000, 100, 86_400_000),
  DOMAIN_RAMP_STEP_MS: intFromEnv(60_000, 100, 3_600_000),
  DOMAIN_RATES: groupNumbers('google=10,example.com=2'),
  DOMAIN_CONNECTIONS: groupNumbers('google=10,yahoo=5'),
  DOMAIN_MX_TIMEOUT_MS: intFromEnv(1_500, 10, 60_000),
  DKIM_DOMAIN: z.string().optional(),
  DKIM_SELECTOR: z.string().optional(),
  DKIM_PRIVATE_KEY: z.string().optional(),
  NEWSLETTER_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  NEWSLETTER_PREVIOUS_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  NEWSLETTER_ADMIN_TOKEN: z.string().min(32, 'at least 32 characters').optional(),
  NEWSLETTER_DEV_MODE: z.enum(['0', '1', 'true', 'false']).optional(),
  PUBLIC_URL: httpUrl().default('http://localhost:3000'),
  HOST: z.string().default('127.0.0.1'),
  PORT: intFromEnv(3000, 0, 65_535),
  TRUST_PROXY: z
    .string()
    .regex(/^(|true|false|\d+|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$/, 'true, false, a hop count, or proxy addresses separated by commas')
    .default(''),
  METRICS_FLUSH_MS: intFromEnv(5_000, 100, 600_000),
  SCHEDULER_POLL_MS: intFromEnv(1_000, 50, 60_000),
  BOUNCE_DOMAIN: z
    .string()
    .regex(
      /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/,
      'a domain name whose MX points at `newsletter inbound`, e.g. bounces.news.example.com',
    )
    .optional(),
  BOUNCE_IMAP_URL: z
    .url({ protocol: /^imaps?$/, hostname: /^\S+$/, error: 'an imaps:// or imap:// URL with a host, e.g. imaps://user:pass@imap.example.com/INBOX' })
    .optional(),
  SOFT_BOUNCE_LIMIT: intFromEnv(3, 1, 100),
  SOFT_BOUNCE_WINDOW: intFromEnv(5, 1, 100),
  INBOUND_HOST: z.string().min(1).default('127.0.0.1'),
  INBOUND_PORT: intFromEnv(2525, 0, 65_535),
  INBOUND_MAX_BYTES: intFromEnv(10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
  INBOUND_MAX_CONNECTIONS: intFromEnv(100, 1, 10_000),
  INBOUND_TLS_CERT: z.string().min(1).optional(),
  INBOUND_TLS_KEY: z.string().min(1).optional(),
  DNS_SERVERS: z
    .string()
    .regex(
      /^(\[[0-9a-fA-F:.]+\]|[0-9.]+|[0-9a-fA-F:]+)(:\d{1,5})?(,(\[[0-9a-fA-F:.]+\]|[0-9.]+|[0-9a-fA-F:]+)(:\d{1,5})?)*$/,
      'DNS server addresses, each an IP with an optional port, separated by commas: 127.0.0.1:5353,[::1]:53',
    )
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/**
 * Every setting's name, and the environment's defaults (unset ones are undefined), so the
 * reference (docs/configuration.md) and .env.example are checked against the schemas by a test.
 */
export const SETTINGS = {
  env: Object.keys(envSchema.shape) as readonly (keyof typeof envSchema.shape)[],
  identity: Object.keys(identitySchema.shape) as readonly (keyof Identity)[],
  envDefaults: envSchema.parse({}) as Readonly<Record<string, unknown>>,
} as const;

/** Checked beside the schema, not in a refinement: zod skips refinements once a field has the wrong type. */
function dkimIssues(env: NodeJS.ProcessEnv): ConfigIssue[] {
  const parts = [env.DKIM_DOMAIN, env.DKIM_SELECTOR, env.DKIM_PRIVATE_KEY];
  if (!parts.some(Boolean) || parts.every(Boolean)) return [];
  return [{ path: ['DKIM_PRIVATE_KEY'], message: 'DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY together' }];
}

/** Which deployment REDIS_URL and the REDIS_SENTINELS/REDIS_CLUSTER_NODES settings describe (redis/redis-topology.ts). */
function redisTopologyOf(e: z.infer<typeof envSchema> | undefined): { topology?: RedisTopology; issues: ConfigIssue[] } {
  if (!e) return { issues: [] };
  try {
    const topology = parseRedisTopology({
      url: e.REDIS_URL,
      sentinels: e.REDIS_SENTINELS,
      sentinelName: e.REDIS_SENTINEL_NAME,
      sentinelPassword: e.REDIS_SENTINEL_PASSWORD,
      clusterNodes: e.REDIS_CLUSTER_NODES,
    });
    return { topology, issues: [] };
  } catch (error) {
    if (!(error instanceof RedisTopologyError)) throw error;
    return { issues: [{ path: [error.field], message: error.message }] };
  }
}

/** STARTTLS needs both files; one alone is a mistake, not "no TLS". */
function inboundTlsIssues(env: NodeJS.ProcessEnv): ConfigIssue[] {
  if (Boolean(env.INBOUND_TLS_CERT) === Boolean(env.INBOUND_TLS_KEY)) return [];
  return [{ path: ['INBOUND_TLS_KEY'], message: 'STARTTLS needs INBOUND_TLS_CERT and INBOUND_TLS_KEY together' }];
}

export interface Config {
  readonly identity: Readonly<Identity>;
  readonly redis: {
    /** REDIS_URL as given (it may name Sentinel or Cluster); `topology` is what to connect to. */
    readonly url: string;
    readonly prefix: string;
    readonly topology: RedisTopology;
    /**
     * Writes the guarantees rest on wait for this many replicas (0 or 1), when the deployment has
     * replicas; each wait gives up after timeoutMs (the write stands, on the primary only).
     */
    readonly wait: { readonly replicas: 0 | 1; readonly timeoutMs: number };
  };
  readonly smtp: {
    readonly url: string | undefined;
    readonly maxConnections: number;
    /** Connect, greeting and each reply up to the end of the message; a timed-out delivery is retried. */
    readonly timeoutMs: number;
    /** The reply to the end of the message; a timed-out delivery is failed, outcome unknown, never retried. */
    readonly dataTimeoutMs: number;
    readonly dkim: { readonly domainName: string; readonly keySelector: string; readonly privateKey: string } | undefined;
    /** Accept a relay certificate no authority signed (a private relay, the tests): TLS still encrypts, nothing proves whom to. */
    readonly allowSelfSigned: boolean;
  };
  /** The DNS servers `newsletter doctor` asks (`host:port`); empty: the system's. */
  readonly dns: { readonly servers: readonly string[] };
  readonly sending: {
    /** Messages per second toward the SMTP server for the whole fleet; 0 means unlimited. */
    readonly ratePerSecond: number;
    readonly attempts: number;
    readonly backoffMs: number;
    readonly concurrency: number;
    /** How long a worker holds a batch without renewing it; a batch of a worker that died goes back to the queue after this. */
    readonly lockMs: number;
    /** The relay breaker: failures in a row that pause the fleet's sending, and the pauses (delivery/relay-breaker.ts). */
    readonly relay: { readonly threshold: number; readonly pauseMs: number; readonly maxPauseMs: number };
    /** Each receiving group's pace: pauses after a throttling reply, the slow start after one, caps (delivery/domain-pace.ts). */
    readonly domains: {
      readonly pauseMs: number;
      readonly maxPauseMs: number;
      readonly rampStepMs: number;
      /** How long an MX lookup may take before a domain counts as its own group. */
      readonly mxTimeoutMs: number;
      /** Per group or domain; a group not named has no cap of its own (0: none). */
      readonly caps: Readonly<Record<string, { readonly perSecond: number; readonly connections: number }>>;
    };
  };
  readonly secrets: {
    /** Undefined only in dev mode, where a fixed, public development secret is used. */
    readonly current: string | undefined;
    readonly previous: string | undefined;
  };
  /** Bearer token for the admin API, the queue dashboard and /metrics; unset turns them off. */
  readonly admin: { readonly token: string | undefined };
  /** Absolute: the folder the admin API reads posts from (`{"post": "relative/path.md"}` never leaves it). */
  readonly postsDir: string;
  readonly devMode: boolean;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly publicUrl: string;
    /** Whether PUBLIC_URL was given: its default (http://localhost:3000) is for one's own machine, never for a send. */
    readonly publicUrlSet: boolean;
    /** Behind a reverse proxy: whose X-Forwarded-For to believe (fastify's trustProxy). */
    readonly trustProxy: boolean | number | string[];
  };
  readonly logLevel: string;
  /** How often each process adds its counts to the fleet metrics hash in Redis (and once more on close). */
  readonly metrics: { readonly flushMs: number };
  /** How often each worker and web server looks for scheduled campaigns that are due. */
  readonly scheduler: { readonly pollMs: number };
  /** What comes back after the 250: the return path's domain (off when unset) and what a soft bounce takes. */
  readonly bounces: {
    readonly domain: string | undefined;
    /** A subscriber becomes bounced after `softLimit` soft bounces in the last `softWindow` campaigns sent to them. */
    readonly softLimit: number;
    readonly softWindow: number;
    /** A mailbox `newsletter inbound` also reads (for those who cannot run an MX). */
    readonly imapUrl: string | undefined;
  };
  /** `newsletter inbound`: where it listens, what it takes, STARTTLS when a certificate is given (file paths). */
  readonly inbound: {
    readonly host: string;
    readonly port: number;
    readonly maxBytes: number;
    readonly maxConnections: number;
    readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  };
}

function parseGroupNumbers(value: string): Map<string, number> {
  return new Map(
    value
      .split(',')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.lastIndexOf('=')), Number(pair.slice(pair.lastIndexOf('=') + 1))] as const),
  );
}

/** The defaults, then newsletter.yaml's `domains`, then the environment, per group. */
function domainCaps(
  fromFile: z.infer<typeof identitySchema>['domains'],
  rates: string,
  connections: string,
): Record<string, { perSecond: number; connections: number }> {
  const caps: Record<string, { perSecond: number; connections: number }> = {};
  for (const [group, cap] of Object.entries(DEFAULT_DOMAIN_CAPS)) caps[group] = { ...cap };
  for (const [group, cap] of Object.entries(fromFile ?? {})) {
    caps[group] = { perSecond: cap.perSecond ?? caps[group]?.perSecond ?? 0, connections: cap.connections ?? caps[group]?.connections ?? 0 };
  }
  for (const [group, n] of parseGroupNumbers(rates)) caps[group] = { connections: 0, ...caps[group], perSecond: n };
  for (const [group, n] of parseGroupNumbers(connections)) caps[group] = { perSecond: 0, ...caps[group], connections: Math.floor(n) };
  return caps;
}

function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value.split(',');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

type ConfigIssue = Pick<z.core.$ZodIssue, 'path' | 'message'>;

/** One bad setting: its name is the location. Several: one message names every one, so they can be fixed in one go. */
function configError(issues: readonly ConfigIssue[], file?: string): NewsletterError {
  const path = (issue: ConfigIssue) => issue.path.join('.');
  const [first, ...more] = issues;
  if (first && more.length === 0) return new NewsletterError('CONFIG_INVALID', first.message, { file, field: path(first) || undefined });
  return new NewsletterError('CONFIG_INVALID', issues.map((issue) => `${path(issue) || '(root)'}: ${issue.message}`).join('; '), { file });
}

function loadIdentity(file: string): z.infer<typeof identitySchema> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new NewsletterError('CONFIG_INVALID', `cannot read the newsletter config file`, { file, cause });
  }
  let raw: unknown;
  try {
    raw = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (cause) {
    const line = cause instanceof yaml.YAMLException ? cause.mark.line + 1 : undefined;
    const reason = cause instanceof yaml.YAMLException ? `: ${cause.reason}` : '';
    throw new NewsletterError('CONFIG_INVALID', `not valid YAML${reason}`, { file, line, cause });
  }
  if (raw === undefined || raw === null) {
    throw new NewsletterError('CONFIG_INVALID', 'the file is empty: it needs name, fromAddress, siteUrl, postalAddress and listId', { file });
  }
  const parsed = identitySchema.safeParse(raw);
  if (!parsed.success) throw configError(parsed.error.issues, file);
  return parsed.data;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** `SMTP_URL=` (as in .env.example, and as docker compose passes an .env line) means unset, not an empty URL. */
function withoutEmpty(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
}

export function loadConfig({ env = process.env, cwd = process.cwd() }: LoadConfigOptions = {}): Config {
  const given = withoutEmpty(env);
  const parsed = envSchema.safeParse(given);
  const { topology, issues: topologyIssues } = redisTopologyOf(parsed.data);
  const issues = [...(parsed.error?.issues ?? []), ...dkimIssues(env), ...inboundTlsIssues(env), ...topologyIssues];
  if (!parsed.success || issues.length > 0) throw configError(issues);
  const e = parsed.data;
  const { domains, ...identity } = loadIdentity(resolve(cwd, e.NEWSLETTER_CONFIG));
  return deepFreeze({
    identity,
    redis: {
      url: e.REDIS_URL,
      prefix: e.REDIS_PREFIX,
      topology: topology!,
      wait: { replicas: e.REDIS_WAIT_REPLICAS === '1' ? 1 : 0, timeoutMs: e.REDIS_WAIT_TIMEOUT_MS },
    },
    smtp: {
      url: e.SMTP_URL,
      maxConnections: e.SMTP_MAX_CONNECTIONS,
      timeoutMs: e.SMTP_TIMEOUT_MS,
      dataTimeoutMs: e.SMTP_DATA_TIMEOUT_MS,
      dkim: e.DKIM_DOMAIN ? { domainName: e.DKIM_DOMAIN, keySelector: e.DKIM_SELECTOR!, privateKey: e.DKIM_PRIVATE_KEY!.replace(/\\n/g, '\n') } : undefined,
      allowSelfSigned: e.SMTP_TLS_ALLOW_SELF_SIGNED === '1' || e.SMTP_TLS_ALLOW_SELF_SIGNED === 'true',
    },
    dns: { servers: e.DNS_SERVERS ? e.DNS_SERVERS.split(',') : [] },
    sending: {
      ratePerSecond: e.SEND_RATE_PER_SECOND,
      attempts: e.SEND_ATTEMPTS,
      backoffMs: e.SEND_BACKOFF_MS,
      concurrency: e.WORKER_CONCURRENCY,
      lockMs: e.WORKER_LOCK_MS,
      relay: { threshold: e.RELAY_FAILURES_TO_PAUSE, pauseMs: e.RELAY_PAUSE_MS, maxPauseMs: Math.max(e.RELAY_PAUSE_MS, e.RELAY_PAUSE_MAX_MS) },
      domains: {
        pauseMs: e.DOMAIN_PAUSE_MS,
        maxPauseMs: Math.max(e.DOMAIN_PAUSE_MS, e.DOMAIN_PAUSE_MAX_MS),
        rampStepMs: e.DOMAIN_RAMP_STEP_MS,
        mxTimeoutMs: e.DOMAIN_MX_TIMEOUT_MS,
        caps: domainCaps(domains, e.DOMAIN_RATES, e.DOMAIN_CONNECTIONS),
      },
    },
    secrets: { current: e.NEWSLETTER_SECRET, previous: e.NEWSLETTER_PREVIOUS_SECRET },
    admin: { token: e.NEWSLETTER_ADMIN_TOKEN },
    postsDir: resolve(cwd, e.POSTS_DIR),
    devMode: e.NEWSLETTER_DEV_MODE === '1' || e.NEWSLETTER_DEV_MODE === 'true',
    http: {
      host: e.HOST,
      port: e.PORT,
      publicUrl: e.PUBLIC_URL.replace(/\/+$/, ''),
      publicUrlSet: given.PUBLIC_URL !== undefined,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
    },
    logLevel: e.LOG_LEVEL,
    metrics: { flushMs: e.METRICS_FLUSH_MS },
    scheduler: { pollMs: e.SCHEDULER_POLL_MS },
    bounces: {
      domain: e.BOUNCE_DOMAIN?.toLowerCase(),
      softLimit: e.SOFT_BOUNCE_LIMIT,
      softWindow: Math.max(e.SOFT_BOUNCE_WINDOW, e.SOFT_BOUNCE_LIMIT),
      imapUrl: e.BOUNCE_IMAP_URL,
    },
    inbound: {
      host: e.INBOUND_HOST,
      port: e.INBOUND_PORT,
      maxBytes: e.INBOUND_MAX_BYTES,
      maxConnections: e.INBOUND_MAX_CONNECTIONS,
      tls: e.INBOUND_TLS_CERT && e.INBOUND_TLS_KEY ? { certFile: resolve(cwd, e.INBOUND_TLS_CERT), keyFile: resolve(cwd, e.INBOUND_TLS_KEY) } : undefined,
    },
  });
}
