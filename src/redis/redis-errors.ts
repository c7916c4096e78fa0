/**
 * Telling Redis's trouble apart from everything else. A Redis that refuses writes (OOM under
 * `noeviction`, READONLY on a replica, MISCONF when it cannot persist) or cannot be reached
 * (restarting, failing over) is an outage of the store: the work waits and is tried again,
 * without spending a delivery's attempts or being counted as an SMTP deferral, and the
 * operator is told it is Redis.
 */
import { NewsletterError } from '../errors.ts';

/** Redis's refusals (ReplyError: OOM, READONLY, MISCONF, LOADING...) and ioredis's errors when it gets no answer. */
const REDIS_ERROR_NAMES = new Set(['ReplyError', 'MaxRetriesPerRequestError', 'AbortError', 'ClusterAllFailedError']);
const CLOSED = /^(Connection is closed\.|Stream isn't writeable|connect ECONNREFUSED|read ECONNRESET|write EPIPE)/;

export function isRedisError(error: unknown): boolean {
  if (error instanceof NewsletterError) return error.code === 'REDIS_UNAVAILABLE';
  if (!(error instanceof Error)) return false;
  return REDIS_ERROR_NAMES.has(error.name) || CLOSED.test(error.message);
}

/** Redis's error as one the operator can act on; anything else as it is. */
export function namedRedisError(error: unknown, what: string): unknown {
  if (!isRedisError(error) || error instanceof NewsletterError) return error;
  return new NewsletterError('REDIS_UNAVAILABLE', `Redis did not take ${what}: ${(error as Error).message.split('\n')[0]}`, {
    field: 'REDIS_URL',
    cause: error,
  });
}
