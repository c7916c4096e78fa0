/**
 * A browser cannot send a bearer header from the address bar, so the queue dashboard (and the
 * editor's console, src/console/) also
 * takes a session cookie: the operator types the admin token once into /admin/login and
 * gets `nl_admin=<expiry>.<HMAC-SHA256(token, expiry)>` (HttpOnly, SameSite=Strict, Path=/admin,
 * Secure over https). The cookie holds no token, ends after 12 hours, and stops working the
 * moment the token is changed. Only the dashboard accepts it: the /api routes and /metrics
 * take the bearer header alone, so no cookie can make a browser call them cross-site.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, isAdminToken } from './admin-auth.ts';
import { html, page } from './html.ts';

export const SESSION_COOKIE = 'nl_admin';
export const SESSION_SECONDS = 12 * 60 * 60;
const LOGIN_PATH = '/admin/login';

function sessionMac(token: string, expires: number): string {
  return createHmac('sha256', token).update(`newsletter admin session until ${expires}`).digest('base64url');
}

export function createSessionValue(token: string, now: Date): string {
  const expires = Math.floor(now.getTime() / 1000) + SESSION_SECONDS;
  return `${expires}.${sessionMac(token, expires)}`;
}

export function isSessionValue(token: string, value: string | undefined, now: Date): boolean {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
  if (!match) return false;
  const expires = Number(match[1]);
  if (expires <= now.getTime() / 1000) return false;
  return timingSafeEqual(Buffer.from(sessionMac(token, expires)), Buffer.from(match[2]!));
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/** Where to go after signing in: a page under /admin of this server only (no `//host`, no scheme). */
export function adminNext(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/admin(\/[^/\\]*)*(\?[^\\]*)?$/.test(value) && value.length <= 500 ? value : undefined;
}

function loginPage(message?: string, next?: string) {
  return page(
    'Newsletter admin',
    html`${message ? html`<p role="alert">${message}</p>` : ''}
<form method="post" action="${LOGIN_PATH}">
<label for="token">Admin token (NEWSLETTER_ADMIN_TOKEN)</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
<button type="submit">Sign in</button>
</form>
<p class="muted">Signs this browser in for 12 hours with a cookie that holds no token. Scripts use <code>Authorization: Bearer</code> instead.</p>`,
  );
}

/**
 * The dashboard's guard: the bearer header or a valid session cookie. Otherwise 401 before
 * anything runs: the sign-in form for a browser page, JSON for everything else.
 */
export function requireAdminSession(token: string, now: () => Date) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (isAdminToken(token, bearerToken(request.headers.authorization))) return;
    if (isSessionValue(token, cookieValue(request.headers.cookie, SESSION_COOKIE), now())) return;
    reply.code(401).header('www-authenticate', 'Bearer realm="newsletter admin"').header('cache-control', 'no-store');
    if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')) {
      return reply.type('text/html; charset=utf-8').send(loginPage(undefined, adminNext(request.url)));
    }
    return reply.send({ ok: false, code: 'ADMIN_TOKEN_INVALID', message: 'Send Authorization: Bearer <NEWSLETTER_ADMIN_TOKEN>, or sign in at /admin/login.' });
  };
}

/** GET/POST /admin/login and POST /admin/logout. Sign-in attempts are rate-limited per client address. */
export async function adminSessionRoutes(app: FastifyInstance, deps: { token: string; landing: string; now: () => Date }): Promise<void> {
  const { now } = deps;
  const cookie = (request: FastifyRequest, value: string, maxAge: number) =>
    `${SESSION_COOKIE}=${value}; Path=/admin; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${request.protocol === 'https' ? '; Secure' : ''}`;

  app.get(LOGIN_PATH, async (_request, reply) => reply.type('text/html; charset=utf-8').send(loginPage()));

  app.post<{ Body: unknown }>(LOGIN_PATH, { config: { rateLimit: { max: 10, timeWindow: 60_000 } } }, async (request, reply) => {
    const body = request.body as { token?: unknown; next?: unknown } | undefined;
    const presented = typeof body?.token === 'string' ? body.token : undefined;
    const next = adminNext(body?.next);
    if (!isAdminToken(deps.token, presented)) {
      return reply.code(401).type('text/html; charset=utf-8').send(loginPage('That is not the admin token.', next));
    }
    return reply
      .code(303)
      .header('set-cookie', cookie(request, createSessionValue(deps.token, now()), SESSION_SECONDS))
      .header('location', next ?? deps.landing)
      .send();
  });

  app.post('/admin/logout', async (request, reply) =>
    reply
      .code(303)
      .header('set-cookie', cookie(request, '', 0))
      .header('location', LOGIN_PATH)
      .send(),
  );
}
