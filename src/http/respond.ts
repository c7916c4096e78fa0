/**
 * Maps errors to HTTP answers at the edge: a page for browsers, JSON for API clients.
 * Messages are ours (NewsletterError) or generic; internals and tokens never reach the client.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isNewsletterError, type ErrorCode } from '../errors.ts';
import { isRedisError } from '../redis/redis-errors.ts';
import { html, page } from './html.ts';

export function wantsJson(request: FastifyRequest): boolean {
  const type = request.headers['content-type'] ?? '';
  const accept = request.headers.accept ?? '';
  return type.includes('application/json') || (accept.includes('application/json') && !accept.includes('text/html'));
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNSUBSCRIBE_TOKEN_INVALID: 400,
  SUBSCRIBER_EMAIL_INVALID: 400,
  INPUT_INVALID: 400,
  HEADER_VALUE_INVALID: 400,
  POST_UNREADABLE: 400,
  POST_FRONT_MATTER_INVALID: 400,
  POST_TITLE_MISSING: 400,
  POST_DATE_INVALID: 400,
  POST_TOO_LARGE: 413,
  IMPORT_FILE_INVALID: 400,
  ADMIN_TOKEN_INVALID: 401,
  REQUEST_TOO_LARGE: 413,
  CONTENT_TYPE_UNSUPPORTED: 415,
  RATE_LIMITED: 429,
  SUBSCRIBER_NOT_FOUND: 404,
  CAMPAIGN_NOT_FOUND: 404,
  CAMPAIGN_STATE_INVALID: 409,
  TEST_SEND_FAILED: 502,
  SMTP_NOT_CONFIGURED: 503,
  REDIS_UNAVAILABLE: 503,
};

const TITLES: Partial<Record<ErrorCode, string>> = {
  UNSUBSCRIBE_TOKEN_INVALID: 'This link is not valid',
  SUBSCRIBER_EMAIL_INVALID: 'That address does not look right',
  INPUT_INVALID: 'Something in the form is not right',
  SMTP_NOT_CONFIGURED: 'Not available right now',
};

/** Ours by code; Redis away is a 503; fastify's own refusals (malformed body, too large, rate limit) keep their 4xx; anything else is a 500. */
export function statusFor(error: FastifyError | Error): number {
  if (isNewsletterError(error)) return STATUS[error.code] ?? 500;
  if (isRedisError(error)) return 503;
  if ('statusCode' in error && typeof error.statusCode === 'number' && error.statusCode < 500) return error.statusCode;
  return 500;
}

/**
 * The registry code for any refusal: ours as they are; fastify's own (body over the limit,
 * a parameter over its length, unread content type, malformed body, rate limit) by status,
 * so clients only ever see codes from src/errors.ts.
 */
export function codeFor(error: FastifyError | Error, status = statusFor(error)): ErrorCode | 'INTERNAL' {
  if (isNewsletterError(error)) return error.code;
  if (isRedisError(error)) return 'REDIS_UNAVAILABLE';
  if (status >= 500) return 'INTERNAL';
  if (status === 413 || status === 414) return 'REQUEST_TOO_LARGE';
  if (status === 415) return 'CONTENT_TYPE_UNSUPPORTED';
  if (status === 429) return 'RATE_LIMITED';
  return 'INPUT_INVALID';
}

export function sendError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = statusFor(error);
  const code = codeFor(error, status);
  let title = 'Something went wrong';
  let message = 'Please try again later.';
  if (isNewsletterError(error)) {
    title = TITLES[error.code] ?? title;
    message = status < 500 || error.code === 'SMTP_NOT_CONFIGURED' ? `${error.message[0]!.toUpperCase()}${error.message.slice(1)}.` : message;
    if (code === 'UNSUBSCRIBE_TOKEN_INVALID') message += ' Nothing was changed. Use the newest link from one of our emails.';
  } else if (status < 500) {
    title = status === 429 ? 'Too many requests' : 'That request could not be read';
    message = status === 429 ? 'Please wait a minute and try again.' : 'Please check the form and try again.';
  }
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  reply.code(status).header('cache-control', 'no-store');
  if (wantsJson(request)) return reply.send({ ok: false, code, message });
  return reply.type('text/html; charset=utf-8').send(page(title, html`<p>${message}</p>`));
}

/**
 * The admin API's error answer: always JSON, `{ok: false, code, message, field?, file?, line?}`.
 * Operators are trusted with our messages even for 5xx (e.g. a missing setting); errors that
 * are not ours stay generic. fastify's own refusals (malformed JSON, wrong content type, a
 * body over the limit) keep their status and get their code from codeFor, about the body.
 */
export function sendApiError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = statusFor(error);
  let body: Record<string, unknown> = { ok: false, code: 'INTERNAL', message: 'Something went wrong; see the server log.' };
  if (isNewsletterError(error)) {
    const { field, file, line } = error.location;
    body = { ok: false, code: error.code, message: error.message, ...(field && { field }), ...(file && { file }), ...(line && { line }) };
  } else if (status < 500) {
    body = { ok: false, code: codeFor(error, status), message: error.message, field: 'body' };
  }
  if (status >= 500) request.log.error({ err: error }, 'admin request failed');
  return reply.code(status).header('cache-control', 'no-store').send(body);
}
