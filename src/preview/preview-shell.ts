/** The document around every preview page, how posts are named in its URLs, and the pieces its pages share. */
import { html, type SafeHtml } from '../http/html.ts';
import { decodeHeaderWords } from '../delivery/mime-encoding.ts';
import type { MessageHeader } from './captured-message.ts';

export function previewDocument(title: string, body: SafeHtml, state: { generation: number; token: string }): string {
  return `<!doctype html>
${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/_preview/preview.css">
<script src="/_preview/preview.js" defer></script>
</head>
<body data-generation="${state.generation}" data-token="${state.token}">
<main id="app">
${body}
</main>
</body>
</html>
`}`;
}

/** `posts/2019/a b.md` -> `posts/2019/a%20b.md`: each segment encoded, slashes kept. */
export function encodePostName(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

export function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

/** A message's headers as table rows: decoded, with the encoded value beneath when it differs. */
export function headerRows(headers: readonly MessageHeader[]): SafeHtml[] {
  return headers.map(({ name, value }) => {
    const decoded = decodeHeaderWords(value);
    return html`<tr><th scope="row">${name}</th><td>${decoded}${decoded === value ? '' : html`<div class="muted">${value}</div>`}</td></tr>`;
  });
}
