/**
 * One post as subscribers will get it: the inbox row, warnings, the email at 375 and
 * 600 px and in dark mode, the text part, the MJML, the headers, and "Send a test".
 */
import { html, type SafeHtml } from '../http/html.ts';
import type { GoodRender, RenderError, RenderOutcome } from './preview-renderer.ts';
import { SAMPLE_SUBSCRIBER } from './sample-message.ts';
import { GMAIL_CLIP_BYTES } from '../render/render-issue.ts';
import { encodePostName, formatBytes, headerRows } from './preview-shell.ts';

export interface PostPageInput {
  name: string;
  outcome: RenderOutcome;
  generation: number;
  /** Undefined when tests can be sent; otherwise what to configure. */
  sendUnavailable: string | undefined;
  /** Where the page links to, when it is served elsewhere than the preview (the console under /admin). */
  paths?: { home: string; homeLabel: string; frame: (scheme: 'light' | 'dark', name: string) => string };
  /** Replaces the "Send a test" tab's form (the console sends its own way). */
  sendPanel?: SafeHtml;
}

const PREVIEW_PATHS: NonNullable<PostPageInput['paths']> = {
  home: '/',
  homeLabel: 'All posts',
  frame: (scheme, name) => `/frame/${scheme}/${encodePostName(name)}`,
};

const TABS = [
  ['email', 'Email'],
  ['text', 'Plain text'],
  ['mjml', 'MJML'],
  ['headers', 'Headers'],
  ['send', 'Send a test'],
] as const;

export function postTitle(input: PostPageInput): string {
  const { outcome, name } = input;
  return outcome.ok ? outcome.issue.subject : `Error: ${outcome.lastGood?.issue.subject ?? name}`;
}

export function postBody(input: PostPageInput): SafeHtml {
  const { outcome, name } = input;
  const good = outcome.ok ? outcome : outcome.lastGood;
  const when = outcome.ok ? html`rendered ${time(outcome.renderedAt)} in ${outcome.ms} ms` : html`failed at ${time(outcome.renderedAt)}`;
  const paths = input.paths ?? PREVIEW_PATHS;
  return html`<div class="bar"><a href="${paths.home}">← ${paths.homeLabel}</a><h1>${good?.issue.subject ?? name}</h1>
<span class="muted">${name}</span><span class="live">live</span><span class="muted">${when}</span></div>
${outcome.ok ? '' : errorCard(outcome.error, good !== undefined)}
${good ? html`<div class="${outcome.ok ? '' : 'stale'}">${rendered(input, good)}</div>` : ''}`;
}

function time(date: Date): string {
  return date.toTimeString().slice(0, 8);
}

function errorCard(error: RenderError, hasLastGood: boolean): SafeHtml {
  const where = [error.file && (error.line ? `${error.file}:${error.line}` : error.file), error.field].filter(Boolean).join(' · ');
  return html`<section class="card error" role="alert" data-testid="render-error">
<h2>This post does not render</h2>
${where ? html`<p class="where">${where}${error.line ? html` <strong>(line ${error.line})</strong>` : ''}</p>` : ''}
<p>${error.reason} <code>[${error.code}]</code></p>
<p class="muted">Fix it and save: this page updates by itself.${hasLastGood ? ' Below is the last version that rendered.' : ''}</p>
</section>`;
}

function rendered(input: PostPageInput, good: GoodRender): SafeHtml {
  const { issue, sample } = good;
  const src = (scheme: 'light' | 'dark') => `${(input.paths ?? PREVIEW_PATHS).frame(scheme, input.name)}?g=${input.generation}`;
  const tablist = TABS.map(
    ([id, label]) =>
      html`<button type="button" role="tab" id="tab-${id}" data-tab="${id}" aria-controls="panel-${id}" aria-selected="${id === 'email'}">${label}</button>`,
  );
  const initial = (sample.fromName.trim()[0] ?? '?').toUpperCase();
  return html`<section class="card inboxes" aria-label="As an inbox shows it">
<div class="inbox" data-testid="inbox-row">
<div class="avatar" aria-hidden="true">${initial}</div>
<div class="from">${sample.fromName}</div><div class="muted">${issue.date ?? ''}</div>
<div class="line"><span class="subject">${issue.subject}</span> <span class="pre">— ${issue.preheader}</span></div>
</div>
<div class="phone-row" aria-label="On a phone">
<div class="top"><span class="from">${sample.fromName}</span><span class="muted">${issue.date ?? ''}</span></div>
<div class="subject">${issue.subject}</div>
<div class="pre">${issue.preheader}</div>
</div>
</section>
${warnings(good)}
<div role="tablist" aria-label="Views of the email">${tablist}</div>
<section role="tabpanel" id="panel-email" aria-labelledby="tab-email" class="frames">
<figure><figcaption>Phone · 375 px</figcaption><iframe name="phone" class="frame-375" title="The email at 375 px" src="${src('light')}" sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"></iframe></figure>
<figure><figcaption>Desktop · 600 px</figcaption><iframe name="desktop" class="frame-600" title="The email at 600 px" src="${src('light')}" sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"></iframe></figure>
<figure><figcaption title="As clients that honour prefers-color-scheme show it (Apple Mail, iOS Mail, Outlook for Mac)">Dark mode · 375 px</figcaption><iframe name="dark" class="frame-375" title="The email in dark mode" src="${src('dark')}" sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"></iframe></figure>
</section>
<section role="tabpanel" id="panel-text" aria-labelledby="tab-text" hidden>
<pre class="source text-part" data-testid="text-part">${sample.text}</pre>
</section>
<section role="tabpanel" id="panel-mjml" aria-labelledby="tab-mjml" hidden>
<pre class="source" data-testid="mjml-source">${issue.mjml}</pre>
</section>
<section role="tabpanel" id="panel-headers" aria-labelledby="tab-headers" hidden>
${headersTable(good)}
</section>
<section role="tabpanel" id="panel-send" aria-labelledby="tab-send" hidden class="card">
${sendPanel(input)}
</section>`;
}

function warnings({ issue }: GoodRender): SafeHtml {
  if (issue.warnings.length === 0) return html`<p class="muted" data-testid="warnings">No warnings.</p>`;
  const items = issue.warnings.map(
    (w) => html`<li>${w.line ? html`<strong>line ${w.line}</strong>: ` : ''}${w.message} <code class="muted">${w.code}</code></li>`,
  );
  return html`<section class="card" data-testid="warnings"><h2>${issue.warnings.length} warning${issue.warnings.length === 1 ? '' : 's'}</h2><ul class="warnings">${items}</ul></section>`;
}

function headersTable({ sample }: GoodRender): SafeHtml {
  const clipped = sample.htmlBytes > GMAIL_CLIP_BYTES;
  return html`<p class="muted">The message as delivery builds it for a sample reader (${SAMPLE_SUBSCRIBER.email}); their links are signed with the public development secret and unsubscribe no one.</p>
<table class="headers">${headerRows(sample.headers)}</table>
<p class="muted">Whole message ${formatBytes(sample.messageBytes)}; HTML part <span class="${clipped ? 'bad' : ''}">${formatBytes(sample.htmlBytes)}</span>${clipped ? ' (Gmail clips HTML past 102 KB)' : ''}.
View in browser: <a href="${sample.viewUrl}">${sample.viewUrl}</a></p>`;
}

function sendPanel(input: PostPageInput): SafeHtml {
  if (input.sendPanel) return input.sendPanel;
  if (input.sendUnavailable) return html`<h2>Send a test</h2><p data-testid="send-unavailable">${input.sendUnavailable}</p>`;
  if (!input.outcome.ok) return html`<h2>Send a test</h2><p>Fix the error above first: a test is sent from the post as it is now.</p>`;
  return html`<h2>Send a test</h2>
<p class="muted">One message marked [TEST], through the same code as <code>newsletter send --test-to</code>. No campaign, no counters.</p>
<form class="send" data-send-test data-post="${input.name}">
<label for="send-to">Address</label>
<input id="send-to" name="to" type="email" required autocomplete="email" placeholder="you@example.com">
<button type="submit">Send a test</button>
<output role="status" aria-live="polite"></output>
</form>`;
}
