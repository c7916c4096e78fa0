/**
 * Campaigns: every campaign with its state, progress and counts, updating in place (the
 * script polls the JSON routes below; no reload), and one campaign with pause, resume,
 * cancel (after a confirmation page), resend to the failed, and its failures with the
 * address (masked unless asked) and the server's reply. Each action is one call to the
 * operations layer, as `newsletter campaign ...` and the admin API make.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isNewsletterError } from '../errors.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { campaignFailures, campaignStatus, cancel, listCampaigns, pause, resendToFailed, resume } from '../operations/campaign-operations.ts';
import { CONSOLE, csrfField, formatCount, maskEmail, notice, type PageContext } from './console-document.ts';
import type { ConsoleScope } from './console-scope.ts';
import { startCampaign, unscheduleCampaign } from '../operations/schedule-operations.ts';
import { campaignPath, campaignView, formatTime, type CampaignView } from './campaign-view.ts';

const NOTICES: Record<string, string> = {
  started: 'The campaign is created and the workers are sending it.',
  scheduled: 'The campaign is created and scheduled: it starts at its time, with this rendering of the post.',
  exists: 'This issue was already sent to this list: here is its campaign. Nothing new was created.',
  paused: 'Paused: no new message starts; messages in flight finish.',
  resumed: 'Resumed: sending continues where it stopped, no one twice.',
  cancelled: 'Cancelled: the recipients not yet sent to are skipped.',
  resent: 'A new round to the failed recipients is on its way.',
  unscheduled: 'Unscheduled: it is a draft now and starts only when you start it (or schedule it again with newsletter campaign schedule).',
};

const FAILURES_SHOWN = 100;

function progress(view: CampaignView): SafeHtml {
  return html`<progress max="100" value="${view.percent}" data-field="percent" aria-label="Progress of ${view.subject}">${view.percent}%</progress>
<span class="muted"><span data-field="settled">${view.settled}</span> of <span data-field="total">${view.total}</span></span>`;
}

function counts(view: CampaignView): SafeHtml {
  const items: [keyof CampaignView, string][] = [
    ['accepted', 'Accepted'],
    ['failed', 'Failed'],
    ['skipped', 'Skipped'],
    ['retrying', 'Retrying'],
    ['bounced', 'Bounced'],
    ['complained', 'Complaints'],
    ['rate', 'msg/s'],
    ['eta', 'Time left'],
  ];
  return html`<ul class="counts">${items.map(([field, label]) => html`<li><b data-field="${field}" data-testid="count-${field}">${view[field]}</b>${label}</li>`)}</ul>`;
}

export async function consoleCampaignRoutes(app: FastifyInstance, scope: ConsoleScope): Promise<void> {
  const ops = scope.operations;
  const idOf = (request: FastifyRequest) => String((request.params as { id: string }).id).slice(0, 250);

  app.get(`${CONSOLE}/campaigns.json`, async () => ({
    ok: true,
    campaigns: (await listCampaigns(ops, 200)).map((c) => campaignView(c, scope.now())),
  }));

  app.get(`${CONSOLE}/campaigns`, async (request, reply) => {
    const views = (await listCampaigns(ops, 200)).map((c) => campaignView(c, scope.now()));
    const rows = views.map(
      (v) => html`<tr data-id="${v.id}"><td><a href="${campaignPath(v.id)}">${v.subject}</a><div class="muted">${v.id}</div></td>
<td data-label="List">${v.list}</td><td data-label="State"><span class="state state-${v.state}" data-field="state">${v.state}</span></td>
<td data-label="Progress">${progress(v)}</td>
<td class="num" data-label="Accepted" data-field="accepted">${v.accepted}</td><td class="num" data-label="Failed" data-field="failed">${v.failed}</td><td class="num" data-label="msg/s" data-field="rate">${v.rate}</td><td data-label="Time left" data-field="eta">${v.eta}</td></tr>`,
    );
    const body = html`<div class="bar"><h1>Campaigns</h1><span class="muted">Counts update by themselves.</span></div>
${
  views.length === 0
    ? html`<p class="card">No campaigns yet: open an <a href="${CONSOLE}/issues">issue</a> and send it.</p>`
    : html`<div class="table-wrap" data-live="${CONSOLE}/campaigns.json"><table class="posts campaigns">
<thead><tr><th scope="col">Campaign</th><th scope="col">List</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Accepted</th><th scope="col">Failed</th><th scope="col">msg/s</th><th scope="col">Time left</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}`;
    return scope.sendPage(reply, 'Campaigns', body, scope.context(request, 'campaigns'));
  });

  app.get(`${CONSOLE}/campaigns/:id/status.json`, async (request, reply) => {
    const campaign = await ops.campaigns.get(idOf(request));
    if (!campaign) return reply.code(404).send({ ok: false, code: 'CAMPAIGN_NOT_FOUND', message: 'no such campaign' });
    return { ok: true, campaign: campaignView(campaign, scope.now()) };
  });

  async function campaignPage(request: FastifyRequest, reply: FastifyReply, message?: SafeHtml, code = 200) {
    const context = scope.context(request, 'campaigns');
    const id = idOf(request);
    if (!(await ops.campaigns.get(id))) return scope.notFound(request, reply, 'campaigns', 'There is no such campaign.');
    const status = await campaignStatus(ops, id);
    const view = campaignView(status, scope.now());
    const showAddresses = (request.query as { addresses?: string }).addresses === 'shown';
    const { failures, total } = await campaignFailures(ops, id, FAILURES_SHOWN);
    const key = (request.query as { notice?: string }).notice;
    const failureRows = failures.map(
      (f) =>
        html`<tr><td>${f.email ? (showAddresses ? f.email : maskEmail(f.email)) : html`<span class="muted">(removed)</span>`}</td><td>${f.returned ? `${f.returned.kind} bounce ${f.returned.status ?? ''}` : 'SMTP'}</td><td class="reply">${f.reply}</td><td data-testid="failed-at">${formatTime(f.at) || '–'}</td></tr>`,
    );
    const body = html`<div class="bar"><a href="${CONSOLE}/campaigns">← All campaigns</a><h1>${status.subject}</h1></div>
${message ?? notice(key ? NOTICES[key] : undefined)}
<section class="card" data-live="${campaignPath(id)}/status.json" data-id="${id}" data-testid="campaign">
<dl class="facts"><dt>State</dt><dd role="status"><span class="state state-${view.state}" data-field="state" data-testid="state">${view.state}</span></dd>
<dt>List</dt><dd>${status.list}</dd><dt>Campaign</dt><dd>${id}</dd><dt>Starts at</dt><dd data-field="scheduledAt" data-testid="scheduled-at">${view.scheduledAt || '–'}</dd><dt>Started</dt><dd data-field="startedAt">${view.startedAt || '–'}</dd><dt>Finished</dt><dd data-field="finishedAt">${view.finishedAt || '–'}</dd></dl>
${progress(view)}
${counts(view)}
${status.warnings.map((w) => html`<p class="notice bad">${w}</p>`)}
${status.relay.state === 'open' ? html`<p class="notice bad">The relay breaker holds every campaign for ${Math.ceil(status.relay.pausedForMs / 1000)} s: ${status.relay.reason}.</p>` : ''}
<div class="row">${actions(context, id, view)}</div>
</section>
<section class="card" aria-labelledby="failures-h"><h2 id="failures-h">Failures (${formatCount(total)})</h2>
${
  total === 0
    ? html`<p class="muted">None.</p>`
    : html`<p>${showAddresses ? html`<a href="${campaignPath(id)}">Mask the addresses</a>` : html`<a href="${campaignPath(id)}?addresses=shown">Show the addresses</a>`}${total > FAILURES_SHOWN ? ` · the first ${FAILURES_SHOWN} of ${formatCount(total)} (all: newsletter campaign failures ${id})` : ''}</p>
<div class="table-wrap"><table class="posts"><thead><tr><th scope="col">Address</th><th scope="col">Kind</th><th scope="col">Server's reply</th><th scope="col">When</th></tr></thead><tbody>${failureRows}</tbody></table></div>`
}</section>`;
    return scope.sendPage(reply, status.subject, body, context, code);
  }

  function actions(context: PageContext, id: string, view: CampaignView): SafeHtml {
    const post = (action: string, label: string, states: string, cls = '') =>
      html`<form method="post" action="${campaignPath(id)}/${action}" data-once data-when-state="${states}"${states.split(' ').includes(view.state) ? '' : html` hidden`}>${csrfField(context)}<button type="submit" class="${cls}">${label}</button></form>`;
    return html`${post('pause', 'Pause', 'sending')}${post('resume', 'Resume', 'paused')}
${post('start', 'Start now', 'scheduled draft')}${post('unschedule', 'Unschedule', 'scheduled', 'quiet')}
${view.failed > 0 ? post('resend', 'Resend to the failed', 'completed', 'quiet') : ''}
<a class="button quiet" href="${campaignPath(id)}/cancel" data-when-state="sending paused scheduled"${['sending', 'paused', 'scheduled'].includes(view.state) ? '' : html` hidden`}>Cancel…</a>`;
  }

  app.get(`${CONSOLE}/campaigns/:id`, async (request, reply) => campaignPage(request, reply));

  app.get(`${CONSOLE}/campaigns/:id/cancel`, async (request, reply) => {
    const context = scope.context(request, 'campaigns');
    const campaign = await ops.campaigns.get(idOf(request));
    if (!campaign) return scope.notFound(request, reply, 'campaigns', 'There is no such campaign.');
    const view = campaignView(campaign, scope.now());
    const body = html`<div class="bar"><a href="${campaignPath(campaign.id)}">← Back</a><h1>Cancel “${campaign.subject}”?</h1></div>
<section class="card"><p>${formatCount(view.total - view.settled)} recipient(s) of ${campaign.list} not yet sent to will be skipped, for good. Messages already sent stay sent.</p>
<form method="post" action="${campaignPath(campaign.id)}/cancel" data-once>${csrfField(context)}<button type="submit" class="danger">Cancel the campaign</button> <a href="${campaignPath(campaign.id)}">Keep it</a></form></section>`;
    return scope.sendPage(reply, 'Cancel the campaign', body, context);
  });

  const run: Record<string, [(id: string) => Promise<unknown>, string]> = {
    pause: [(id) => pause(ops, id), 'paused'],
    resume: [(id) => resume(ops, id), 'resumed'],
    cancel: [(id) => cancel(ops, id), 'cancelled'],
    resend: [(id) => resendToFailed(ops, id), 'resent'],
    start: [(id) => startCampaign(ops, id), 'started'],
    unschedule: [(id) => unscheduleCampaign(ops, id), 'unscheduled'],
  };
  for (const [action, [operation, done]] of Object.entries(run)) {
    app.post(`${CONSOLE}/campaigns/:id/${action}`, async (request, reply) => {
      try {
        await operation(idOf(request));
      } catch (error) {
        if (!isNewsletterError(error)) throw error;
        return campaignPage(request, reply, notice(error.message, 'bad'), error.code === 'CAMPAIGN_NOT_FOUND' ? 404 : 409);
      }
      return reply.redirect(`${campaignPath(idOf(request))}?notice=${done}`, 303);
    });
  }
}
