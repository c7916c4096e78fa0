/**
 * The console's guard on every state-changing request: a valid sign-in cookie (the bearer
 * header is not enough here: the console is for browsers, scripts use /api) plus a CSRF
 * token, an HMAC of that cookie under the admin token. SameSite=Strict already keeps the
 * cookie off cross-site requests; the token also refuses a same-site page or an old tab
 * after the token changed. Checked before any handler runs, so a refused request changes nothing.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { cookieValue, isSessionValue, SESSION_COOKIE } from '../http/admin-session.ts';

export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function csrfToken(adminToken: string, session: string): string {
  return createHmac('sha256', adminToken).update(`newsletter console csrf ${session}`).digest('base64url');
}

/** The session cookie of a request, when it is a valid one. */
export function sessionOf(request: FastifyRequest, adminToken: string, now: Date): string | undefined {
  const value = cookieValue(request.headers.cookie, SESSION_COOKIE);
  return isSessionValue(adminToken, value, now) ? value : undefined;
}

function sameSecret(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers[CSRF_HEADER];
  if (typeof header === 'string') return header;
  const body = request.body as Record<string, unknown> | undefined;
  const field = body && typeof body === 'object' ? body[CSRF_FIELD] : undefined;
  return typeof field === 'string' ? field : undefined;
}

/** A preHandler (the form body is parsed by then; nothing has been done with it). */
export function requireCsrf(adminToken: string, now: () => Date) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    const session = sessionOf(request, adminToken, now());
    const presented = presentedToken(request);
    if (session && presented !== undefined && sameSecret(csrfToken(adminToken, session), presented)) return;
    reply
      .code(403)
      .header('cache-control', 'no-store')
      .send({
        ok: false,
        code: 'ADMIN_TOKEN_INVALID',
        message: session
          ? 'This form is out of date (its CSRF token does not match your sign-in): reload the page and try again. Nothing was changed.'
          : 'Sign in at /admin/login first; the console takes no bearer token for changes (use /api). Nothing was changed.',
      });
    return reply;
  };
}
