/**
 * Small, accessible pages that read well on a phone. Every interpolated value goes through
 * escapeHtml; `html` template literals escape by default and only trust other SafeHtml.
 */
import { escapeHtml } from '../escape-html.ts';

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Tagged template: `html\`<p>${userText}</p>\`` escapes userText; nested html`` stays as is. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    const parts = Array.isArray(value) ? value : [value];
    out += parts.map((part) => (part instanceof SafeHtml ? part.value : escapeHtml(part ?? ''))).join('');
    out += strings[i + 1]!;
  });
  return new SafeHtml(out);
}

const STYLE = `
:root{color-scheme:light dark}
body{margin:0;font:17px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC",sans-serif;color:#1b1b1b;background:#f6f6f4}
main{max-width:34rem;margin:0 auto;padding:2rem 1.25rem;overflow-wrap:anywhere}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
p,form{margin:0 0 1rem}
.card{background:#fff;border-radius:10px;padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
button{font:inherit;font-weight:600;color:#fff;background:#1f5fbf;border:0;border-radius:8px;padding:.8rem 1.4rem;min-height:48px;cursor:pointer;width:100%}
button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #f0b000;outline-offset:2px}
label{display:block;font-weight:600;margin:0 0 .3rem}
input{font:inherit;width:100%;box-sizing:border-box;padding:.7rem;border:1px solid #767676;border-radius:6px;margin:0 0 1rem;min-height:48px}
.muted{color:#555;font-size:.95rem}
a{color:#1f5fbf}
@media (max-width:400px){main{padding:1rem .75rem}.card{padding:1.25rem}}
@media (prefers-color-scheme:dark){body{color:#eee;background:#111}.card{background:#1d1d1d;box-shadow:none}.muted{color:#bbb}a{color:#8ab4ff}button{background:#3b7be0}input{background:#222;color:#eee;border-color:#888}}
`;

export function page(title: string, body: SafeHtml, lang = 'en'): string {
  return `<!doctype html>
${html`<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
<main><div class="card">
<h1>${title}</h1>
${body}
</div></main>
</body>
</html>
`}`;
}
