/** The preview's first page: every post with its title, date, warnings and HTML size. */
import { html, type SafeHtml } from '../http/html.ts';
import type { RenderOutcome } from './preview-renderer.ts';
import { GMAIL_CLIP_BYTES } from '../render/render-issue.ts';
import { encodePostName, formatBytes } from './preview-shell.ts';

export interface IndexRow {
  name: string;
  outcome: RenderOutcome;
}

/** Where the list links to and what it is called, when it is served elsewhere than the preview (the console). */
export interface IndexOptions {
  title: string;
  link: (name: string) => string;
  live: boolean;
}

const PREVIEW_INDEX: IndexOptions = { title: 'Preview', link: (name) => `/post/${encodePostName(name)}`, live: true };

/** `outbox`: the captured messages' section, shown below the posts when given. */
export function indexBody(rows: IndexRow[], root: string, outbox?: SafeHtml, options: IndexOptions = PREVIEW_INDEX) {
  const sorted = [...rows].sort((a, b) => (dateOf(b) ?? '').localeCompare(dateOf(a) ?? '') || a.name.localeCompare(b.name));
  const body = sorted.map(({ name, outcome }) => {
    const link = options.link(name);
    if (!outcome.ok) {
      const { line, reason } = outcome.error;
      return html`<tr><td><a href="${link}">${outcome.lastGood?.issue.subject ?? name}</a><div class="muted">${name}</div></td>
<td colspan="3" class="bad">does not render: ${line ? `line ${line}: ` : ''}${reason}</td></tr>`;
    }
    const { issue, sample } = outcome;
    const big = sample.htmlBytes > GMAIL_CLIP_BYTES;
    return html`<tr><td><a href="${link}">${issue.subject}</a><div class="muted">${name}</div></td>
<td>${issue.date ?? 'no date'}</td>
<td class="num${issue.warnings.length ? ' bad' : ''}">${issue.warnings.length}</td>
<td class="num${big ? ' bad' : ''}">${formatBytes(sample.htmlBytes)}</td></tr>`;
  });
  return html`<div class="bar"><h1>${options.title}</h1><span class="muted">${root}</span>${options.live ? html`<span class="live">live</span>` : ''}</div>
${
  rows.length === 0
    ? html`<p class="card">No posts here yet: add a Markdown file with front matter and it appears at once.</p>`
    : html`<div class="table-wrap"><table class="posts">
<thead><tr><th scope="col">Post</th><th scope="col">Date</th><th scope="col">Warnings</th><th scope="col">HTML size</th></tr></thead>
<tbody>${body}</tbody>
</table></div>`
}
${outbox ?? ''}`;
}

function dateOf(row: IndexRow): string | undefined {
  return row.outcome.ok ? row.outcome.issue.date : row.outcome.lastGood?.issue.date;
}
