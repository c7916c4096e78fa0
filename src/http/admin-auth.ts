/**
 * The one guard for operator endpoints (admin API, queue dashboard, /metrics):
 * `Authorization: Bearer <NEWSLETTER_ADMIN_TOKEN>`, compared in constant time.
 * A request without the right token gets 401 before any handler runs, so nothing is done.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Hashing first gives equal-length buffers, so neither the length nor a prefix of the token leaks through timing. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function isAdminToken(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(digest(expected), digest(presented));
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** A fastify onRequest hook for a scope of operator routes. */
export function requireAdminToken(expected: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (isAdminToken(expected, bearerToken(request.headers.authorization))) return;
    reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="newsletter admin"')
      .header('cache-control', 'no-store')
      .send({ ok: false, code: 'ADMIN_TOKEN_INVALID', message: 'Send Authorization: Bearer <NEWSLETTER_ADMIN_TOKEN>.' });
    return reply;
  };
}
