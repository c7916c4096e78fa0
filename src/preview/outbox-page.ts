/**
 * The outbox in the preview: a section on the index page listing the newest captured
 * messages, and a page for one message (its HTML part in a sandboxed frame, its text
 * part, its headers). PURE.
 */
import { html, type SafeHtml } from '../http/html.ts';
import type { CapturedMessage } from './captured-message.ts';
import type { OutboxEntry } from './outbox.ts';
import { encodePostName, formatBytes, headerRows } from './preview-shell.ts';

function outboxLink(name: string): string {
  return `/outbox/${encodePostName(name)}`;
}

export function outboxSection(outbox: { total: number; entries: OutboxEntry[] }, dir: string): SafeHtml {
  const heading = html`<h2 id="outbox">Outbox <span class="muted">${dir} · ${outbox.total} captured message${outbox.total === 1 ? '' : 's'}${
    outbox.total > outbox.entries.length ? `, newest ${outbox.entries.length} shown` : ''
  }</span></h2>`;
  if (outbox.entries.length === 0) {
    return html`<section class="outbox" aria-labelledby="outbox">${heading}<p class="card">No captured messages yet: <code>npx newsletter demo</code> sends the example issue to sample subscribers and keeps every message here.</p></section>`;
  }
  const rows = outbox.entries.map(
    (entry) => html`<tr><td><a href="${outboxLink(entry.name)}">${entry.subject || '(no subject)'}</a><div class="muted">${entry.name}</div></td>
<td>${entry.to}</td><td>${entry.date}</td><td class="num">${formatBytes(entry.bytes)}</td></tr>`,
  );
  return html`<section class="outbox" aria-labelledby="outbox">${heading}
<table class="posts" data-testid="outbox">
<thead><tr><th scope="col">Subject</th><th scope="col">To</th><th scope="col">Date</th><th scope="col">Size</th></tr></thead>
<tbody>${rows}</tbody>
</table></section>`;
}

const TABS = [
  ['email', 'Email'],
  ['text', 'Plain text'],
  ['headers', 'Headers'],
] as const;

export function outboxMessageBody(name: string, message: CapturedMessage & { bytes: number }): SafeHtml {
  const tablist = TABS.map(
    ([id, label]) =>
      html`<button type="button" role="tab" id="tab-${id}" data-tab="${id}" aria-controls="panel-${id}" aria-selected="${id === 'email'}">${label}</button>`,
  );
  return html`<div class="bar"><a href="/#outbox">← Outbox</a><h1>${message.subject || '(no subject)'}</h1><span class="muted">${name}</span></div>
<section class="card" aria-label="Envelope"><div><strong>To</strong> ${message.to}</div><div><strong>From</strong> ${message.from}</div>
<div class="muted">${message.date} · ${formatBytes(message.bytes)}</div></section>
<div role="tablist" aria-label="Parts of the message">${tablist}</div>
<section role="tabpanel" id="panel-email" aria-labelledby="tab-email" class="frames">
${
  message.html === undefined
    ? html`<p class="card">This message has no HTML part.</p>`
    : html`<figure><figcaption>HTML part · 600 px</figcaption><iframe class="frame-600" title="The HTML part" src="/outbox-frame/${encodePostName(name)}" sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"></iframe></figure>`
}
</section>
<section role="tabpanel" id="panel-text" aria-labelledby="tab-text" hidden>
${message.text === undefined ? html`<p class="card">This message has no plain-text part.</p>` : html`<pre class="source text-part" data-testid="text-part">${message.text}</pre>`}
</section>
<section role="tabpanel" id="panel-headers" aria-labelledby="tab-headers" hidden>
<table class="headers" data-testid="headers">${headerRows(message.headers)}</table>
</section>`;
}
