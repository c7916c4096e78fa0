/**
 * GET /unsubscribe/:token shows which address and lists, with a button; it changes nothing,
 * because mail scanners follow links. POST /unsubscribe/:token unsubscribes at once: it is
 * what the footer button and mailbox providers' one-click (RFC 8058) send, with the body
 * `List-Unsubscribe=One-Click` form-urlencoded or multipart, and no cookie or CSRF token.
 * Idempotent; answers 200, also for a signed link whose subscriber no longer exists.
 */
import type { FastifyInstance } from 'fastify';
import { NewsletterError } from '../errors.ts';
import type { UnsubscribeHow } from '../metrics/definitions.ts';
import type { UnsubscribeMetrics } from '../metrics/metric-tally.ts';
import type { SubscriberStore } from '../subscribers/subscriber-store.ts';
import { verifyToken, type SigningSecrets } from '../subscribers/tokens.ts';
import { readAnyBody } from './any-body.ts';
import { html, page } from './html.ts';

export interface UnsubscribeRouteDeps {
  subscribers: SubscriberStore;
  secrets: SigningSecrets;
  newsletterName: string;
  metrics?: UnsubscribeMetrics;
}

type LinkHow = Extract<UnsubscribeHow, 'page' | 'one_click' | 'post'>;
const REASONS: Record<LinkHow, string> = { page: 'unsubscribe page', one_click: 'one-click (RFC 8058)', post: 'unsubscribe POST' };

function staleLink(): NewsletterError {
  return new NewsletterError('UNSUBSCRIBE_TOKEN_INVALID', 'the link refers to an address that is no longer on the list');
}

export async function unsubscribeRoutes(app: FastifyInstance, deps: UnsubscribeRouteDeps): Promise<void> {
  const { subscribers, secrets, newsletterName } = deps;
  // No rate limit: a mailbox provider posts many one-click unsubscribes from few addresses
  // right after a campaign, and every one must be honoured. A forged token costs one HMAC
  // and never reaches Redis.

  // The body only says how the request came (one-click or our page); whatever a mailbox
  // provider posts, even a malformed body, must not stop the unsubscribe.
  readAnyBody(app);

  const find = async (token: string) => {
    const id = verifyToken(secrets, token, 'unsubscribe');
    const subscriber = await subscribers.get(id);
    if (!subscriber) throw staleLink();
    return subscriber;
  };

  app.get<{ Params: { token: string } }>('/unsubscribe/:token', async (request, reply) => {
    const subscriber = await find(request.params.token);
    const lists = subscriber.lists.join(', ');
    reply.type('text/html; charset=utf-8');
    if (subscriber.status === 'unsubscribed') {
      return page('You are unsubscribed', html`<p><strong>${subscriber.email}</strong> no longer receives ${newsletterName}.</p>`);
    }
    return page(
      `Unsubscribe from ${newsletterName}?`,
      html`<p>Stop sending ${newsletterName} to <strong>${subscriber.email}</strong>?</p>
<p class="muted">Lists: ${lists || 'none'}</p>
<form method="post" action="/unsubscribe/${request.params.token}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<input type="hidden" name="source" value="page">
<button type="submit">Unsubscribe</button>
</form>`,
    );
  });

  app.post<{ Params: { token: string }; Body: unknown }>('/unsubscribe/:token', async (request, reply) => {
    // A signed link of an address that is gone (removed, erased): what was asked for holds
    // already. A mailbox provider's one-click (RFC 8058) gets its 2xx; nothing changes.
    const subscriber = await subscribers.get(verifyToken(secrets, request.params.token, 'unsubscribe'));
    if (!subscriber) {
      reply.code(200).type('text/html; charset=utf-8');
      return page('You are unsubscribed', html`<p>This address is not on the list: ${newsletterName} is not sent to it.</p>`);
    }
    const body = typeof request.body === 'string' ? request.body : '';
    const oneClick = /List-Unsubscribe=One-Click|name="List-Unsubscribe"\r?\n\r?\nOne-Click/.test(body);
    const how: LinkHow = /(^|&)source=page(&|$)/.test(body) ? 'page' : oneClick ? 'one_click' : 'post';
    const reason = REASONS[how];
    const result = await subscribers.unsubscribe(subscriber.id, reason);
    if (result.changed) {
      // elapsedTime runs from the moment fastify received the request: this is the suppression delay.
      deps.metrics?.unsubscribed(how, reply.elapsedTime / 1000);
      request.log.info({ subscriberId: subscriber.id, reason }, 'unsubscribed');
    }
    reply.code(200).type('text/html; charset=utf-8');
    return page(
      'You are unsubscribed',
      html`<p><strong>${subscriber.email}</strong> will not receive ${newsletterName} any more.</p>
<p class="muted">This takes effect at once. If this was a mistake, subscribe again on the website.</p>`,
    );
  });
}
