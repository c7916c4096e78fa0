/** The document around every console page: navigation, the shared stylesheet and script (served by the server, no inline script), and small pieces the pages share. */
import { html, type SafeHtml } from '../http/html.ts';
import { CSRF_FIELD } from './console-csrf.ts';

export const CONSOLE = '/admin';

export type Section = 'issues' | 'campaigns' | 'subscribers';

const NAV: [Section, string, string][] = [
  ['issues', 'Issues', `${CONSOLE}/issues`],
  ['campaigns', 'Campaigns', `${CONSOLE}/campaigns`],
  ['subscribers', 'Subscribers', `${CONSOLE}/subscribers`],
];

/** What every page knows about the request: the CSRF token for its forms, and the section it is in. */
export interface PageContext {
  csrf: string;
  section: Section;
}

export function consoleDocument(title: string, body: SafeHtml, context: PageContext): string {
  const links = NAV.map(([id, label, href]) => html`<a href="${href}"${id === context.section ? html` aria-current="page"` : ''}>${label}</a>`);
  return `<!doctype html>
${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · Newsletter console</title>
<link rel="stylesheet" href="${CONSOLE}/_console/console.css">
<script src="${CONSOLE}/_console/console.js" defer></script>
</head>
<body>
<a class="skip" href="#app">Skip to content</a>
<header class="top"><nav aria-label="Console">${links}<a href="${CONSOLE}/queues/">Queues</a></nav>
<form method="post" action="${CONSOLE}/logout" class="inline"><button type="submit" class="link">Sign out</button></form></header>
<main id="app">
${body}
</main>
</body>
</html>
`}`;
}

/** The hidden field every state-changing form carries. */
export function csrfField(context: PageContext): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${context.csrf}">`;
}

/** A message above the page's content: `?notice=` values are ours, picked by key, never echoed. */
export function notice(text: string | undefined, kind: 'ok' | 'bad' = 'ok'): SafeHtml {
  return text ? html`<p class="notice ${kind}" role="status">${text}</p>` : html``;
}

/** `alice@example.com` -> `a•••@example.com`: enough to recognise, not to copy. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  return `${email[0]}•••${email.slice(at)}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en');
}
