/**
 * Send: from an issue, choose the list (with its count of active subscribers), send a test
 * to one or more addresses, then confirm on a page that restates subject, list, recipients
 * and when, and send now or schedule. The campaign id is `<slug>--<list>` and creating it is
 * idempotent, so a second click, a reload or two editors at once find the campaign that
 * exists and say so instead of creating another.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { campaignIdFor } from '../campaign/plan.ts';
import { isNewsletterError } from '../errors.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { sendIssue, sendTest } from '../operations/campaign-operations.ts';
import { renderFromSource } from '../operations/post-source.ts';
import { readStartTime, scheduleIssue, scheduleTimeZone } from '../operations/schedule-operations.ts';
import { subscriberCounts } from '../operations/subscriber-operations.ts';
import type { Issue } from '../render/issue.ts';
import { CONSOLE, csrfField, notice, type PageContext } from './console-document.ts';
import { issuePath, postName, sendPath } from './console-issue-routes.ts';
import type { ConsoleScope } from './console-scope.ts';
import { campaignPath } from './campaign-view.ts';
import { describeWhen, parseWhen, TIME_ZONES, type When } from './send-when.ts';

const MAX_TEST_ADDRESSES = 5;

const confirmQuery = z.object({
  post: z.string().min(1).max(1000),
  list: z.string().min(1).max(100),
  when: z.enum(['now', 'at']).default('now'),
  at: z.string().max(40).optional(),
  tz: z.string().max(64).optional(),
});

export async function consoleSendRoutes(app: FastifyInstance, scope: ConsoleScope): Promise<void> {
  const ops = scope.operations;
  // One creation at a time per campaign in this process; across servers the store's own create decides.
  const creating = new Map<string, Promise<unknown>>();

  const render = (post: string) => renderFromSource({ post }, { postsDir: scope.posts.root, identity: ops.identity });

  async function sendForm(request: FastifyRequest, reply: FastifyReply, name: string, message?: SafeHtml, code = 200) {
    const context = scope.context(request, 'issues');
    const outcome = await scope.posts.render(name);
    if (!outcome) return scope.notFound(request, reply, 'issues', 'There is no such post in POSTS_DIR.');
    if (!outcome.ok) {
      return scope.sendPage(
        reply,
        'Cannot send',
        html`<h1>This post does not render</h1><p>${outcome.error.reason}</p><p><a href="${issuePath(name)}">See the error</a></p>`,
        context,
        409,
      );
    }
    const lists = await subscriberCounts(ops.subscribers);
    const body = html`<div class="bar"><a href="${issuePath(name)}">← Back to the issue</a><h1>Send “${outcome.issue.subject}”</h1></div>
${message ?? ''}
${outcome.issue.warnings.length ? html`<p class="notice bad">${outcome.issue.warnings.length} warning(s): <a href="${issuePath(name)}">read them first</a>.</p>` : ''}
<section class="card" aria-labelledby="test-h"><h2 id="test-h">1. Send a test</h2>
<form method="post" action="${CONSOLE}/send-test" data-once>${csrfField(context)}
<input type="hidden" name="post" value="${name}">
<label for="test-to">Addresses (up to ${MAX_TEST_ADDRESSES}, separated by commas or spaces)</label>
<input id="test-to" name="to" type="text" required autocomplete="email" inputmode="email" size="40" placeholder="you@example.com, editor@example.com">
<p><button type="submit">Send a test</button></p>
</form></section>
<section class="card" aria-labelledby="send-h"><h2 id="send-h">2. Choose the list and when</h2>
${lists.length === 0 ? html`<p>No lists yet: add subscribers first (<a href="${CONSOLE}/subscribers">Subscribers</a>).</p>` : sendChoices(name, lists)}
</section>`;
    return scope.sendPage(reply, `Send ${outcome.issue.subject}`, body, context, code);
  }

  function sendChoices(name: string, lists: Awaited<ReturnType<typeof subscriberCounts>>): SafeHtml {
    // The zone `send --at` reads a time in: newsletter.yaml's `timezone`, else the machine's.
    const zone = scheduleTimeZone(ops);
    return html`<form method="get" action="${CONSOLE}/confirm">
<input type="hidden" name="post" value="${name}">
<fieldset><legend>List</legend>
${lists.map(
  (l, i) =>
    html`<label class="choice"><input type="radio" name="list" value="${l.list}"${i === 0 ? html` checked` : ''} required> <span><b>${l.list}</b> · <span data-testid="active-${l.list}">${l.byStatus.active}</span> active subscriber${l.byStatus.active === 1 ? '' : 's'}</span></label>`,
)}
</fieldset>
<fieldset><legend>When</legend>
<label class="choice"><input type="radio" name="when" value="now" checked> Now</label>
<label class="choice"><input type="radio" name="when" value="at"> At a time:</label>
<div class="row"><div><label for="at">Date and time</label><input id="at" name="at" type="datetime-local" step="1"></div>
<div><label for="tz">Time zone</label><select id="tz" name="tz">${TIME_ZONES.map((z) => html`<option${z === zone ? html` selected` : ''}>${z}</option>`)}</select></div></div>
</fieldset>
<button type="submit">Review…</button>
</form>`;
  }

  app.get(`${CONSOLE}/send/*`, async (request, reply) => sendForm(request, reply, postName(request.params)));

  app.post(`${CONSOLE}/send-test`, async (request, reply) => {
    const body = z.object({ post: z.string().min(1).max(1000), to: z.string().max(2000) }).safeParse(request.body);
    if (!body.success) return reply.code(400).send({ ok: false, code: 'INPUT_INVALID', message: 'post and to are required' });
    const { post, to } = body.data;
    const addresses = to.split(/[\s,;]+/).filter(Boolean);
    if (addresses.length === 0 || addresses.length > MAX_TEST_ADDRESSES) {
      return sendForm(request, reply, post, notice(`Give 1 to ${MAX_TEST_ADDRESSES} addresses.`, 'bad'), 400);
    }
    let issue: Issue;
    try {
      issue = await render(post);
    } catch (error) {
      if (!isNewsletterError(error)) throw error;
      return sendForm(request, reply, post, notice(error.message, 'bad'), 400);
    }
    const lines: string[] = [];
    let failed = false;
    for (const address of addresses) {
      try {
        const sent = await sendTest(ops, issue, address, 'to');
        lines.push(`Test sent to ${sent.to}: ${sent.reply}`);
      } catch (error) {
        if (!isNewsletterError(error)) throw error;
        failed = true;
        lines.push(`${address.slice(0, 120)}: ${error.message}`);
      }
    }
    return sendForm(
      request,
      reply,
      post,
      html`<div class="notice ${failed ? 'bad' : 'ok'}" role="status" data-testid="test-result">${lines.map((l) => html`<p>${l}</p>`)}</div>`,
      failed ? 502 : 200,
    );
  });

  app.get(`${CONSOLE}/confirm`, async (request, reply) => {
    const context = scope.context(request, 'issues');
    const query = confirmQuery.safeParse(request.query);
    if (!query.success) return reply.code(400).send({ ok: false, code: 'INPUT_INVALID', message: 'post and list are required' });
    const { post, list } = query.data;
    let when: When;
    let issue: Issue;
    let recipients: number;
    let id: string;
    try {
      when = parseWhen(query.data);
      issue = await render(post);
      const dry = await sendIssue(ops, issue, { list, dryRun: true });
      recipients = dry.kind === 'dry-run' ? dry.recipients : 0;
      id = campaignIdFor(issue.slug, list);
    } catch (error) {
      if (!isNewsletterError(error)) throw error;
      return sendForm(request, reply, post, notice(error.message, 'bad'), 400);
    }
    const existing = await ops.campaigns.get(id);
    const facts = html`<dl class="facts" data-testid="confirm-facts"><dt>Subject</dt><dd>${issue.subject}</dd><dt>List</dt><dd>${list}</dd>
<dt>Recipients</dt><dd data-testid="recipients">${recipients} active subscriber${recipients === 1 ? '' : 's'}</dd><dt>When</dt><dd data-testid="when">${describeWhen(when)}</dd></dl>`;
    const action = existing
      ? html`<p class="notice bad" role="status">This issue has already been sent to ${list}: the campaign is ${existing.state}. <a href="${campaignPath(id)}">See the campaign</a>.</p>`
      : confirmForm(context, post, list, when);
    const body = html`<div class="bar"><a href="${sendPath(post)}">← Back</a><h1>Confirm the send</h1></div>
<section class="card">${facts}${action}</section>`;
    return scope.sendPage(reply, 'Confirm the send', body, context);
  });

  function confirmForm(context: PageContext, post: string, list: string, when: When): SafeHtml {
    const hidden = html`${csrfField(context)}<input type="hidden" name="post" value="${post}"><input type="hidden" name="list" value="${list}">`;
    if (when.kind === 'now') {
      return html`<form method="post" action="${CONSOLE}/send" data-once>${hidden}<button type="submit" data-testid="send-now">Send now to ${list}</button></form>`;
    }
    return html`<form method="post" action="${CONSOLE}/schedule" data-once>${hidden}<input type="hidden" name="at" value="${when.at}"><input type="hidden" name="tz" value="${when.timeZone}">
<button type="submit" data-testid="schedule">Schedule for ${describeWhen(when)}</button></form>`;
  }

  app.post(`${CONSOLE}/send`, async (request, reply) => {
    const body = z.object({ post: z.string().min(1).max(1000), list: z.string().min(1).max(100) }).safeParse(request.body);
    if (!body.success) return reply.code(400).send({ ok: false, code: 'INPUT_INVALID', message: 'post and list are required' });
    const { post, list } = body.data;
    let issue: Issue;
    let id: string;
    try {
      issue = await render(post);
      id = campaignIdFor(issue.slug, list);
    } catch (error) {
      if (!isNewsletterError(error)) throw error;
      return sendForm(request, reply, post, notice(error.message, 'bad'), 400);
    }
    const running = creating.get(id);
    if (running) {
      await running.catch(() => undefined);
      return reply.redirect(`${campaignPath(id)}?notice=exists`, 303);
    }
    if (await ops.campaigns.get(id)) return reply.redirect(`${campaignPath(id)}?notice=exists`, 303);
    const created = sendIssue(ops, issue, { list });
    creating.set(id, created);
    try {
      await created;
    } catch (error) {
      // Another server created it between our look and our create: it exists, which is what was asked.
      if (isNewsletterError(error, 'CAMPAIGN_STATE_INVALID')) return reply.redirect(`${campaignPath(id)}?notice=exists`, 303);
      if (!isNewsletterError(error)) throw error;
      return sendForm(request, reply, post, notice(error.message, 'bad'), 400);
    } finally {
      creating.delete(id);
    }
    return reply.redirect(`${campaignPath(id)}?notice=started`, 303);
  });

  // The same scheduling as `send --at` and the API's scheduledAt: rendered and checked now,
  // created now as a scheduled campaign, started at that time by whichever process polls first.
  app.post(`${CONSOLE}/schedule`, async (request, reply) => {
    const body = z
      .object({ post: z.string().min(1).max(1000), list: z.string().min(1).max(100), at: z.string().max(40), tz: z.string().max(64) })
      .safeParse(request.body);
    if (!body.success) return reply.code(400).send({ ok: false, code: 'INPUT_INVALID', message: 'post, list, at and tz are required' });
    const { post, list } = body.data;
    let issue: Issue;
    let id: string;
    let at: Date;
    try {
      const when = parseWhen({ when: 'at', at: body.data.at, tz: body.data.tz });
      if (when.kind !== 'at') throw new Error('parseWhen ignored a time');
      at = readStartTime(ops, when.at.replace('T', ' '), { zone: when.timeZone, fields: { at: 'at', tz: 'tz' } });
      issue = await render(post);
      id = campaignIdFor(issue.slug, list);
    } catch (error) {
      if (!isNewsletterError(error)) throw error;
      return sendForm(request, reply, post, notice(error.message, 'bad'), 400);
    }
    if (creating.has(id) || (await ops.campaigns.get(id))) return reply.redirect(`${campaignPath(id)}?notice=exists`, 303);
    const created = scheduleIssue(ops, issue, { list, at });
    creating.set(id, created);
    try {
      await created;
    } catch (error) {
      if (!isNewsletterError(error)) throw error;
      return sendForm(request, reply, post, notice(error.message, 'bad'), 400);
    } finally {
      creating.delete(id);
    }
    return reply.redirect(`${campaignPath(id)}?notice=scheduled`, 303);
  });
}
