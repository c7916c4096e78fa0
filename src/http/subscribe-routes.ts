/**
 * Double opt-in. POST /subscribe (form or JSON: email, name, list) makes a `pending`
 * subscriber and mails a confirmation link (its page and button: confirm-routes.ts).
 * The answer is the same whatever the address's state, and the email is sent after the
 * answer, so neither the text nor the timing tells whether an address is on the list.
 */
import { CONFIRM_REF, returnPathFor } from '../delivery/return-path.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../config.ts';
import { NewsletterError } from '../errors.ts';
import { confirmationEmail } from '../subscribers/confirmation-email.ts';
import { DEFAULT_LIST, type Subscriber } from '../subscribers/subscriber.ts';
import { normalizeInput, type SubscriberStore } from '../subscribers/subscriber-store.ts';
import { confirmUrl, createToken, type SigningSecrets } from '../subscribers/tokens.ts';
import { html, page } from './html.ts';
import { wantsJson } from './respond.ts';

export interface MailSender {
  sendMail(message: object): Promise<unknown>;
}

export interface SubscribeRouteDeps {
  subscribers: SubscriberStore;
  secrets: SigningSecrets;
  publicUrl: string;
  identity: Pick<Identity, 'name' | 'fromName' | 'fromAddress' | 'replyTo' | 'siteUrl'>;
  /** Undefined when SMTP_URL is not set: POST /subscribe then answers 503. */
  mailer: MailSender | undefined;
  rateLimit: { max: number; timeWindow: number };
  /** At most one confirmation email per address in this many seconds. */
  confirmationWindowSeconds: number;
  /** Confirmation emails still being sent; the server waits for them on close. */
  inFlight: Set<Promise<unknown>>;
  /** BOUNCE_DOMAIN: a confirmation email's envelope sender is its own return path, so its bounce is read too. */
  bounceDomain?: string;
}

function field(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new NewsletterError('INPUT_INVALID', `${name} must be text`, { field: name });
  return value;
}

export async function subscribeRoutes(app: FastifyInstance, deps: SubscribeRouteDeps): Promise<void> {
  const { subscribers, secrets, identity } = deps;
  // Fields come as a form or JSON. Fastify would read text/plain (what fetch sends for a string
  // body without a content type) as one string, and the answer would wrongly say "email: empty".
  app.removeContentTypeParser('text/plain');

  app.get('/subscribe', async (_request, reply) => {
    reply.type('text/html; charset=utf-8');
    return page(
      `Subscribe to ${identity.name}`,
      html`<form method="post" action="/subscribe">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required>
<label for="name">Name <span class="muted">(optional)</span></label>
<input id="name" name="name" type="text" autocomplete="name" maxlength="200">
<button type="submit">Subscribe</button>
</form>
<p class="muted">We will send you a link to confirm.</p>`,
    );
  });

  /** What to do for an address in each state; only new, pending and unsubscribed get a link. */
  const prepare = async (input: ReturnType<typeof normalizeInput>): Promise<Subscriber | undefined> => {
    const existing = await subscribers.getByEmail(input.email);
    if (!existing) {
      return (await subscribers.add({ ...input, status: 'pending', reason: 'subscribed on the website' })).subscriber;
    }
    // Still unconfirmed: take the newest name and list, and send the link again.
    if (existing.status === 'pending') return (await subscribers.add(input)).subscriber;
    if (existing.status === 'unsubscribed') {
      // They asked again themselves; still only the link in their mailbox makes them active.
      await subscribers.add(input);
      return (await subscribers.setStatus(existing.id, 'pending', 'asked to subscribe again on the website')).subscriber;
    }
    return undefined; // active, bounced or complained: nothing to send
  };

  const send = async (subscriber: Subscriber, request: FastifyRequest) => {
    if (!(await subscribers.claimConfirmationEmail(subscriber.id, deps.confirmationWindowSeconds))) return;
    const url = confirmUrl(deps.publicUrl, createToken(secrets.current, subscriber.id, 'confirm'));
    const returnPath = deps.bounceDomain ? returnPathFor(secrets.current, deps.bounceDomain, CONFIRM_REF, subscriber.id) : undefined;
    await deps.mailer!.sendMail(confirmationEmail({ identity, email: subscriber.email, confirmUrl: url, returnPath }));
    request.log.info({ subscriberId: subscriber.id }, 'confirmation email sent');
  };

  app.post<{ Body: unknown }>('/subscribe', { config: { rateLimit: deps.rateLimit } }, async (request, reply: FastifyReply) => {
    if (!deps.mailer) throw new NewsletterError('SMTP_NOT_CONFIGURED', 'subscribing is not available right now');
    const body = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
    const input = normalizeInput({
      email: field(body, 'email') ?? '',
      name: field(body, 'name'),
      lists: [field(body, 'list') ?? DEFAULT_LIST],
    });
    const list = input.lists![0]!;
    // Visitors join lists the operator made (by add or import); they cannot invent new ones.
    if (list !== DEFAULT_LIST && (await subscribers.countList(list)) === 0) {
      throw new NewsletterError('INPUT_INVALID', `there is no list called "${list}"`, { field: 'list' });
    }
    const subscriber = await prepare(input);
    if (subscriber) {
      const sending = send(subscriber, request)
        .catch((error: unknown) => request.log.error({ err: error, subscriberId: subscriber.id }, 'confirmation email failed'))
        .finally(() => deps.inFlight.delete(sending));
      deps.inFlight.add(sending);
    }
    const message = 'If this address can subscribe, a confirmation link is on its way. Open it to start receiving the newsletter.';
    reply.code(202);
    if (wantsJson(request)) return { ok: true, message };
    reply.type('text/html; charset=utf-8');
    return page('Check your inbox', html`<p>${message}</p><p class="muted">Nothing arrived? Look in the spam folder.</p>`);
  });
}
