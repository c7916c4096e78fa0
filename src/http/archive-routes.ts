/**
 * The public archive on the web server: GET /issues (newest first), GET /issues/:slug
 * (the "view in browser" link; a campaign id works too), GET /feed.xml (Atom), and
 * GET /how-to-unsubscribe. An archived issue is the campaign's snapshot with the
 * placeholders filled with values that belong to no one: its own URL, and a page that
 * explains how to unsubscribe. No token, no address.
 */
import type { FastifyInstance } from 'fastify';
import { fillPlaceholders } from '../render/placeholders.ts';
import { atomFeed } from './archive-atom.ts';
import type { IssueArchive } from './archive-reader.ts';
import { issueUrl } from '../campaign/issue-url.ts';
import { unsubscribeHelpUrl } from './archive-url.ts';
import { escapeHtml } from '../escape-html.ts';
import { html, page } from './html.ts';

export interface ArchiveRouteDeps {
  archive: IssueArchive;
  publicUrl: string;
  newsletterName: string;
  language: string | undefined;
}

// The email's own inline styles and remote images; still no script, no form, no framing.
const ISSUE_CSP =
  "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline' https:; font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const CACHE = 'public, max-age=300';

const day = (iso: string) => iso.slice(0, 10);

export async function archiveRoutes(app: FastifyInstance, deps: ArchiveRouteDeps): Promise<void> {
  const { archive, publicUrl, newsletterName, language } = deps;
  // Route-level onSend runs after the server's own hook: public pages may be cached, and an issue may show its images.
  const publicPage = (csp?: string) => ({
    onSend: async (_request: unknown, reply: { statusCode: number; headers(values: Record<string, string>): unknown }) => {
      if (reply.statusCode === 200) reply.headers({ 'cache-control': CACHE, ...(csp ? { 'content-security-policy': csp } : {}) });
    },
  });

  app.get('/issues', publicPage(), async (_request, reply) => {
    const issues = await archive.list();
    const items = issues.map((i) => html`<li><a href="${issueUrl(publicUrl, i.slug)}">${i.subject}</a> <span class="muted">${day(i.firstSentAt)}</span></li>`);
    reply.type('text/html; charset=utf-8');
    return page(
      `${newsletterName}: past issues`,
      html`${issues.length ? html`<ul>${items}</ul>` : html`<p>No issue has been sent yet.</p>`}
<p class="muted"><a href="${publicUrl}/feed.xml">Atom feed</a></p>`,
      language,
    );
  });

  app.get<{ Params: { key: string } }>('/issues/:key', publicPage(ISSUE_CSP), async (request, reply) => {
    const found = await archive.find(request.params.key);
    if (!found) {
      reply.code(404).type('text/html; charset=utf-8');
      return page('No such issue', html`<p>There is no issue at this address. <a href="${publicUrl}/issues">See all past issues</a>.</p>`, language);
    }
    const self = issueUrl(publicUrl, found.issue.slug);
    const filled = fillPlaceholders(found.snapshot.html, { viewInBrowserUrl: escapeHtml(self), unsubscribeUrl: escapeHtml(unsubscribeHelpUrl(publicUrl)) });
    const canonical = `<link rel="canonical" href="${escapeHtml(self)}"><link rel="alternate" type="application/atom+xml" href="${escapeHtml(`${publicUrl}/feed.xml`)}">`;
    return reply.type('text/html; charset=utf-8').send(filled.replace(/<head([^>]*)>/i, (tag) => `${tag}${canonical}`));
  });

  app.get('/feed.xml', publicPage(), async (_request, reply) => {
    const issues = await archive.list();
    const entries = [];
    for (const i of issues.slice(0, 50)) {
      const snapshot = await archive.snapshot(i.campaignId);
      const url = issueUrl(publicUrl, i.slug);
      entries.push({ id: url, title: i.subject, url, published: i.firstSentAt, updated: i.firstSentAt, summary: snapshot?.preheader ?? '' });
    }
    reply.type('application/atom+xml; charset=utf-8');
    return atomFeed({
      title: newsletterName,
      selfUrl: `${publicUrl}/feed.xml`,
      htmlUrl: `${publicUrl}/issues`,
      author: newsletterName,
      language,
      // With no entry yet, a fixed time keeps the feed stable instead of changing on every request.
      updated: entries[0]?.updated ?? '1970-01-01T00:00:00.000Z',
      entries,
    });
  });

  app.get('/how-to-unsubscribe', publicPage(), async (_request, reply) => {
    reply.type('text/html; charset=utf-8');
    return page(
      `Unsubscribe from ${newsletterName}`,
      html`<p>This is the public copy of an issue, so its link cannot know who you are.</p>
<p>To stop receiving ${newsletterName}, open the issue in your own mailbox and use the <strong>unsubscribe</strong> link at its foot, or your mail app’s own unsubscribe button. It takes effect at once.</p>`,
      language,
    );
  });
}
