/**
 * Subscribers: counts per list and status, search by address, add, change a status with a
 * reason, import a CSV (the upload's progress, then the same bad-row report as
 * `newsletter subscribers import`), export as a CSV download. Each action is one call to
 * the operations layer.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isNewsletterError } from '../errors.ts';
import { liftBodyDeadline } from '../http/connection-limits.ts';
import { html, type SafeHtml } from '../http/html.ts';
import {
  addSubscriber,
  exportSubscribersCsv,
  findSubscriber,
  importReportLines,
  importSubscribersCsv,
  setSubscriberStatus,
  subscriberCounts,
} from '../operations/subscriber-operations.ts';
import { parseFilter, SUBSCRIBER_STATUSES, type Subscriber } from '../subscribers/subscriber.ts';
import { CONSOLE, csrfField, formatCount, notice, type PageContext } from './console-document.ts';
import type { ConsoleScope } from './console-scope.ts';

/** A browser upload is held in memory while it is read (as the admin API's multipart import). */
export const CONSOLE_UPLOAD_MAX_BYTES = 64 * 1024 * 1024;
const PATH = `${CONSOLE}/subscribers`;

const text = (max: number) => z.string().max(max);
/** Names an import in flight so the page can ask how far it is; the page's script picks it. */
const IMPORT_ID = /^[A-Za-z0-9-]{8,64}$/;

export async function consoleSubscriberRoutes(app: FastifyInstance, scope: ConsoleScope): Promise<void> {
  const store = scope.operations.subscribers;
  /** Rows read so far by each import in flight in this process (an upload of millions takes a while after it has arrived). */
  const importing = new Map<string, number>();

  async function subscribersPage(request: FastifyRequest, reply: FastifyReply, message?: SafeHtml, code = 200, found?: Subscriber) {
    const context = scope.context(request, 'subscribers');
    const query = request.query as { email?: string };
    const email = typeof query.email === 'string' ? query.email.slice(0, 320).trim() : '';
    let result: SafeHtml = html``;
    let subscriber = found;
    if (!subscriber && email) {
      try {
        subscriber = await findSubscriber(store, email);
      } catch (error) {
        if (!isNewsletterError(error)) throw error;
        result = notice(error.message, 'bad');
      }
    }
    if (subscriber) result = subscriberCard(context, subscriber);
    const lists = await subscriberCounts(store);
    const statusHeads = SUBSCRIBER_STATUSES.map((s) => html`<th scope="col">${s}</th>`);
    const rows = lists.map(
      (l) =>
        html`<tr><th scope="row">${l.list}</th><td class="num">${formatCount(l.total)}</td>${SUBSCRIBER_STATUSES.map(
          (s) => html`<td class="num" data-testid="count-${l.list}-${s}">${formatCount(l.byStatus[s])}</td>`,
        )}<td><a href="${PATH}/export.csv?list=${encodeURIComponent(l.list)}" download>CSV</a></td></tr>`,
    );
    const body = html`<div class="bar"><h1>Subscribers</h1></div>
${message ?? ''}
<section class="card" aria-labelledby="search-h"><h2 id="search-h">Find a subscriber</h2>
<form method="get" action="${PATH}" role="search"><label for="search">Address</label>
<div class="row"><input id="search" name="email" type="search" value="${email}" autocomplete="off" size="32"><button type="submit">Search</button></div></form>
${result}</section>
<section class="card" aria-labelledby="lists-h"><h2 id="lists-h">Lists</h2>
${
  lists.length === 0
    ? html`<p class="muted">No lists yet.</p>`
    : html`<div class="table-wrap"><table class="posts"><thead><tr><th scope="col">List</th><th scope="col">All</th>${statusHeads}<th scope="col">Export</th></tr></thead><tbody>${rows}</tbody></table></div>`
}
<p><a href="${PATH}/export.csv" download>Export everyone (CSV)</a></p></section>
<section class="card" aria-labelledby="add-h"><h2 id="add-h">Add a subscriber</h2>
<form method="post" action="${PATH}/add" data-once>${csrfField(context)}
<div class="row"><div><label for="add-email">Address</label><input id="add-email" name="email" type="email" required autocomplete="off" size="28"></div>
<div><label for="add-name">Name (optional)</label><input id="add-name" name="name" type="text" autocomplete="off"></div>
<div><label for="add-list">List</label><input id="add-list" name="list" type="text" value="${lists[0]?.list ?? 'default'}" required list="list-names"></div>
<button type="submit">Add</button></div>
<datalist id="list-names">${lists.map((l) => html`<option value="${l.list}">`)}</datalist></form></section>
<section class="card" aria-labelledby="import-h"><h2 id="import-h">Import a CSV</h2>
<p class="muted">A header row: email, optional name, status, lists; other columns become attributes. Bad rows are skipped and reported by line; importing the same file again changes nothing.</p>
<form method="post" action="${PATH}/import" enctype="multipart/form-data" data-upload>${csrfField(context)}<input type="hidden" name="importId" value="">
<div class="row"><div><label for="import-list">List every row joins (optional)</label><input id="import-list" name="list" type="text" list="list-names"></div>
<div><label for="import-file">CSV file</label><input id="import-file" name="file" type="file" accept=".csv,text/csv" required></div>
<button type="submit">Import</button></div>
<progress max="100" value="0" hidden aria-label="Upload"></progress><output role="status" aria-live="polite"></output></form></section>`;
    return scope.sendPage(reply, 'Subscribers', body, context, code);
  }

  function subscriberCard(context: PageContext, s: Subscriber): SafeHtml {
    const last = s.history.at(-1);
    return html`<div data-testid="subscriber"><dl class="facts"><dt>Address</dt><dd>${s.email}</dd><dt>Name</dt><dd>${s.name ?? '–'}</dd>
<dt>Status</dt><dd data-testid="subscriber-status">${s.status}</dd><dt>Lists</dt><dd>${s.lists.join(', ') || '–'}</dd>
<dt>Last change</dt><dd>${last ? `${last.at}: ${last.reason}` : '–'}</dd></dl>
<form method="post" action="${PATH}/status" data-once>${csrfField(context)}<input type="hidden" name="email" value="${s.email}">
<div class="row"><div><label for="new-status">New status</label><select id="new-status" name="status">${SUBSCRIBER_STATUSES.map(
      (st) => html`<option${st === s.status ? html` selected` : ''}>${st}</option>`,
    )}</select></div>
<div><label for="reason">Reason (kept in the history)</label><input id="reason" name="reason" type="text" required maxlength="500" size="32"></div>
<button type="submit">Change the status</button></div></form></div>`;
  }

  app.get(PATH, async (request, reply) => subscribersPage(request, reply));

  app.post(`${PATH}/add`, async (request, reply) => {
    const body = z.object({ email: text(320), name: text(200).optional(), list: text(100).optional() }).safeParse(request.body);
    if (!body.success) return subscribersPage(request, reply, notice('Give an address.', 'bad'), 400);
    const { email, name, list } = body.data;
    try {
      const added = await addSubscriber(store, { email, name: name || undefined, list: list || undefined, reason: 'added in the console' });
      const what = added.created ? 'Added' : added.updated ? 'Updated' : 'Already there, unchanged:';
      return subscribersPage(request, reply, notice(`${what} ${added.subscriber.email}.`), added.created ? 201 : 200, added.subscriber);
    } catch (error) {
      if (!isNewsletterError(error)) throw error;
      return subscribersPage(request, reply, notice(error.message, 'bad'), 400);
    }
  });

  app.post(`${PATH}/status`, async (request, reply) => {
    const body = z.object({ email: text(320), status: text(20), reason: text(500) }).safeParse(request.body);
    if (!body.success || !body.data.reason.trim()) return subscribersPage(request, reply, notice('Give the new status and a reason.', 'bad'), 400);
    const { email, status, reason } = body.data;
    try {
      const result = await setSubscriberStatus(store, email, status, reason.trim(), scope.metrics);
      const message = result.changed ? `${result.subscriber.email} is now ${result.subscriber.status}.` : `${result.subscriber.email} already was ${status}.`;
      return subscribersPage(request, reply, notice(message), 200, result.subscriber);
    } catch (error) {
      if (!isNewsletterError(error)) throw error;
      return subscribersPage(request, reply, notice(error.message, 'bad'), error.code === 'SUBSCRIBER_NOT_FOUND' ? 404 : 400);
    }
  });

  app.post(
    `${PATH}/import`,
    {
      bodyLimit: CONSOLE_UPLOAD_MAX_BYTES,
      config: { multipartOptions: { limits: { files: 1, fileSize: CONSOLE_UPLOAD_MAX_BYTES, fields: 4, parts: 5 } } },
      // Signed in and with the form's token by now: an editor's upload may take as long as it takes.
      onRequest: async (request) => liftBodyDeadline(request),
    },
    async (request, reply) => {
      const body = z
        .object({ file: z.union([z.instanceof(Buffer), z.string()]), list: text(100).optional(), importId: text(64).optional() })
        .safeParse(request.body);
      if (!request.isMultipart() || !body.success) return subscribersPage(request, reply, notice('Choose a CSV file to import.', 'bad'), 400);
      const file = 'upload.csv';
      const id = IMPORT_ID.test(body.data.importId ?? '') ? body.data.importId! : undefined;
      const onProgress = id ? (rows: number) => importing.set(id, rows) : undefined;
      if (id) importing.set(id, 0);
      try {
        const report = await importSubscribersCsv(store, Readable.from([body.data.file]), { file, list: body.data.list || undefined, onProgress });
        const lines = importReportLines(report, file);
        const message = html`<section class="notice ${report.rejectedTotal ? 'bad' : 'ok'}" role="status" data-testid="import-report"><p><strong>Import finished:</strong> ${lines.summary}.</p>
${lines.rejected.length ? html`<pre class="report">${lines.rejected.join('\n')}${lines.unlisted ? `\n${lines.unlisted}` : ''}</pre>` : ''}</section>`;
        return subscribersPage(request, reply, message);
      } catch (error) {
        if (!isNewsletterError(error)) throw error;
        return subscribersPage(request, reply, notice(error.message, 'bad'), 400);
      } finally {
        if (id) importing.delete(id);
      }
    },
  );

  // How far an import in flight is: 404 once it has finished (or was never here).
  app.get(`${PATH}/import-progress`, async (request, reply) => {
    const { id } = request.query as { id?: unknown };
    const rows = typeof id === 'string' ? importing.get(id) : undefined;
    if (rows === undefined) return reply.code(404).send({ ok: false, code: 'INPUT_INVALID', message: 'no import in flight with that id' });
    return { ok: true, rows };
  });

  app.get(`${PATH}/export.csv`, async (request, reply) => {
    const query = z.object({ list: text(100).optional(), status: text(20).optional() }).safeParse(request.query);
    if (!query.success) return reply.code(400).send({ ok: false, code: 'INPUT_INVALID', message: 'list and status are optional strings' });
    const filter = parseFilter(query.data);
    const csv = await exportSubscribersCsv(store, filter);
    const name = `subscribers${filter.list ? `-${filter.list}` : ''}.csv`;
    reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`);
    return reply.send(csv);
  });
}
