import { isNewsletterError } from '../errors.ts';
import { isRedisError, namedRedisError } from '../redis/redis-errors.ts';

/** One line for stderr: the error's location and code when it is ours (Redis's trouble named as such), the message otherwise. */
export function formatError(cause: unknown): string {
  const error = namedRedisError(cause, 'the command');
  if (isNewsletterError(error)) return error.toOneLine();
  if (error instanceof Error) return error.message;
  return String(error);
}

/** 1 for a problem with the user's input or config, 75 (EX_TEMPFAIL) when Redis is away or refusing, 70 (EX_SOFTWARE) for a bug. */
export function exitCodeFor(error: unknown): number {
  if (isRedisError(error)) return 75;
  return isNewsletterError(error) ? 1 : 70;
}
