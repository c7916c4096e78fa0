/**
 * The double opt-in link. GET /confirm/:token shows the address with a button and changes
 * nothing, because link scanners (Outlook Safe Links, mail gateways) open every link in a
 * message and would otherwise subscribe addresses nobody asked for. The button's POST makes
 * a `pending` subscriber `active`; only a person clicks it. Idempotent; answers 200.
 */
import type { FastifyInstance } from 'fastify';
import { NewsletterError } from '../errors.ts';
import type { Subscriber } from '../subscribers/subscriber.ts';
import type { SubscriberStore } from '../subscribers/subscriber-store.ts';
import { verifyToken, type SigningSecrets } from '../subscribers/tokens.ts';
import { readAnyBody } from './any-body.ts';
import { html, page } from './html.ts';

export interface ConfirmRouteDeps {
  subscribers: SubscriberStore;
  secrets: SigningSecrets;
  newsletterName: string;
  /** Per client address, for both methods. */
  rateLimit: { max: number; timeWindow: number };
}

function noLongerValid(): NewsletterError {
  return new NewsletterError('UNSUBSCRIBE_TOKEN_INVALID', 'this confirmation link is no longer valid');
}

export async function confirmRoutes(app: FastifyInstance, deps: ConfirmRouteDeps): Promise<void> {
  const { subscribers, secrets, newsletterName } = deps;
  // Only the button posts here, and its body carries nothing; no body may stop a confirmation.
  readAnyBody(app);

  const find = async (token: string) => {
    const id = verifyToken(secrets, token, 'confirm');
    const subscriber = await subscribers.get(id);
    if (!subscriber) throw new NewsletterError('UNSUBSCRIBE_TOKEN_INVALID', 'the link refers to an address that is no longer on the list');
    return subscriber;
  };

  const subscribed = (subscriber: Subscriber) =>
    page(
      `You are subscribed to ${newsletterName}`,
      html`<p><strong>${subscriber.email}</strong> will receive ${newsletterName}. Every email has an unsubscribe link at the bottom.</p>`,
    );

  const options = { config: { rateLimit: deps.rateLimit } };

  app.get<{ Params: { token: string } }>('/confirm/:token', options, async (request, reply) => {
    const subscriber = await find(request.params.token);
    reply.type('text/html; charset=utf-8');
    if (subscriber.status === 'active') return subscribed(subscriber);
    // Suppressed since the link was sent: an old link never undoes an unsubscribe or a bounce.
    if (subscriber.status !== 'pending') throw noLongerValid();
    return page(
      `Confirm your subscription to ${newsletterName}`,
      html`<p>Start sending ${newsletterName} to <strong>${subscriber.email}</strong>?</p>
<form method="post" action="/confirm/${request.params.token}">
<button type="submit">Confirm my subscription</button>
</form>
<p class="muted">If you did not ask for this, close this page: nothing happens until the button is pressed.</p>`,
    );
  });

  app.post<{ Params: { token: string }; Body: unknown }>('/confirm/:token', options, async (request, reply) => {
    const subscriber = await find(request.params.token);
    const { subscriber: after, changed } = await subscribers.confirm(subscriber.id);
    // Only pending becomes active: an old link never undoes a later unsubscribe or bounce.
    if (after.status !== 'active') throw noLongerValid();
    if (changed) request.log.info({ subscriberId: after.id }, 'subscription confirmed');
    reply.code(200).type('text/html; charset=utf-8');
    return subscribed(after);
  });
}
