import { isNewsletterError } from '../errors.ts';

/** One line for stderr: the error's location and code when it is ours, the message otherwise. */
export function formatError(error: unknown): string {
  if (isNewsletterError(error)) return error.toOneLine();
  if (error instanceof Error) return error.message;
  return String(error);
}

/** 1 for a problem with the user's input or config, 70 (EX_SOFTWARE) for a bug. */
export function exitCodeFor(error: unknown): number {
  return isNewsletterError(error) ? 1 : 70;
}
