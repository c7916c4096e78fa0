/**
 * Structured logs: one JSON object a line on stdout (pino's and the twelve-factor default;
 * docker compose collects it), for the worker and the web server alike. Commands that print
 * for people (send, campaign, subscribers) don't log. Keeps credentials out: fields that carry secrets
 * are censored by name, and every email address in a message, a top-level string field or
 * an error is masked (`j***@example.com`), so an SMTP reply such as
 * `550 5.1.1 <ann@example.org>: User unknown` never puts a subscriber's address in a log.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

/** `ann@example.org` -> `a***@example.org`: enough to tell domains apart, not enough to name anyone. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return '***';
  return `${address.slice(0, Math.min(1, at))}***${address.slice(at)}`;
}

// Anything shaped like local@domain.tld (o'brien@ too), also inside <...>, quotes or a URL's user:password@host.
const ADDRESS_IN_TEXT = /[^\s<>"(),;:[\]@]+@[^\s<>"'(),;:[\]@]+\.[^\s<>"'(),;:[\]@.]+/gu;

/** Every address in a text masked with maskEmail. */
export function maskEmailsIn(text: string): string {
  return text.includes('@') ? text.replace(ADDRESS_IN_TEXT, maskEmail) : text;
}

/** Fields that hold credentials, wherever a caller puts them (one level deep), and the config's. */
const REDACT_PATHS = ['secret', 'password', 'token', 'authorization', 'privateKey', 'smtpUrl', 'adminToken', 'dkim']
  .flatMap((key) => [key, `*.${key}`])
  .concat(['req.headers.authorization', 'req.headers.cookie', 'config.secrets', 'config.smtp.url', 'config.redis.url', 'config.admin']);

function maskErr(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (!serialized || typeof serialized !== 'object') return serialized;
  const masked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(serialized)) masked[key] = typeof value === 'string' ? maskEmailsIn(value) : value;
  return masked;
}

const LOGGER_OPTIONS: LoggerOptions = {
  timestamp: pino.stdTimeFunctions.isoTime,
  redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  serializers: { err: maskErr },
  formatters: {
    log(object) {
      const masked: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(object)) masked[key] = typeof value === 'string' ? maskEmailsIn(value) : value;
      return masked;
    },
  },
  hooks: {
    logMethod(args, method) {
      for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = maskEmailsIn(args[i] as string);
      return method.apply(this, args as Parameters<typeof method>);
    },
  },
};

export interface CreateLoggerOptions {
  /** What the process is: `web`, `delivery-worker`, ... (the `name` field of every line). */
  name: string;
  /** Where lines go (tests capture them); default stdout, written synchronously so nothing is lost on exit. */
  stream?: DestinationStream | NodeJS.WritableStream;
}

export function createLogger(config: Pick<Config, 'logLevel'>, { name, stream }: CreateLoggerOptions): Logger {
  return pino({ ...LOGGER_OPTIONS, name, level: config.logLevel }, (stream as DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: true }));
}
