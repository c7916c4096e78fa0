/**
 * The console's stylesheet and script, served by the server itself (no CDN, no build step):
 * the preview's styles and tabs, so an issue looks the same in both, plus the console's own.
 * The script only improves pages that work without it: it keeps a form from being sent
 * twice, polls the campaigns' JSON to update counts in place, and shows an import's upload progress.
 */
import { PREVIEW_CSS } from '../preview/preview-assets.ts';
import { TABS_SCRIPT } from '../preview/tabs-script.ts';

const CONSOLE_OWN_CSS = `
:root{color-scheme:light dark;--bg:#eef0f3;--fg:#1b1f24;--card:#fff;--accent:#1f5fbf;--ok:#1a7f37}
body{background:var(--bg);color:var(--fg)}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--card);padding:6px;z-index:2}
header.top{display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center;justify-content:space-between;padding:8px 16px;background:var(--card);border-bottom:1px solid var(--line)}
header.top nav{display:flex;flex-wrap:wrap;gap:4px 14px}
header.top nav a{padding:6px 2px;text-decoration:none;font-weight:600}
header.top nav a[aria-current=page]{border-bottom:3px solid var(--accent)}
main{max-width:1200px;margin:0 auto}
form.inline{display:inline;margin:0}
button,.button{font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:6px;padding:8px 14px;min-height:40px;cursor:pointer;text-decoration:none;display:inline-block}
button.link{background:none;color:var(--accent);padding:6px 2px;min-height:0;text-decoration:underline}
button.danger{background:var(--bad)}
button.quiet,.button.quiet{background:none;color:var(--accent);border:1px solid var(--accent)}
button:disabled{opacity:.55;cursor:progress}
select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #f0b000;outline-offset:2px}
label{display:block;font-weight:600;margin:8px 0 4px}
fieldset{border:1px solid var(--line);border-radius:8px;margin:0 0 12px;padding:8px 12px;min-width:0}
.row>div{min-width:0;max-width:100%}
legend{font-weight:700;padding:0 4px}
fieldset label.choice{display:flex;gap:8px;align-items:center;font-weight:400;margin:6px 0}
input[type=text],input[type=email],input[type=search],input[type=datetime-local],input[type=file],select,textarea{font:inherit;color:inherit;background:var(--card);padding:6px 8px;border:1px solid #767676;border-radius:6px;max-width:100%;min-height:40px}
textarea{width:100%;min-height:60px}
.row{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:flex-end}
.notice{margin:0 0 14px;padding:8px 12px;border-radius:6px;border:1px solid var(--line);background:var(--card)}
.notice p{margin:4px 0}
.notice.ok{border-left:5px solid var(--ok)}
.notice.bad{border-left:5px solid var(--bad)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0 0 12px}
dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}
.table-wrap{overflow-x:auto}
table.posts{background:var(--card)}
table.posts td{vertical-align:top}
progress{width:100%;min-width:120px;height:14px;accent-color:var(--accent)}
.counts{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0 12px;padding:0;list-style:none}
.counts li{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:6px 10px;min-width:88px}
.counts b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
.state{display:inline-block;border-radius:999px;padding:1px 10px;font-size:13px;font-weight:700;background:#e5e7eb;color:#1b1f24}
.state-sending{background:#dbeafe;color:#1e3a8a}.state-completed{background:#dcfce7;color:#14532d}
.state-paused{background:#fef3c7;color:#78350f}.state-cancelled{background:#fee2e2;color:#7f1d1d}.state-scheduled{background:#ede9fe;color:#4c1d95}
/* The console does not watch files: the preview's "live" mark would promise too much. */
.live{display:none}
[role=tablist]{overflow-x:auto}
[role=tab]{white-space:nowrap}
pre.report{white-space:pre-wrap;overflow-wrap:anywhere;font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
@media (max-width:480px){main{padding:12px 8px 32px}header.top{padding:4px 8px}header.top nav{gap:0 10px}header.top nav a,button.link{font-size:14px}
table.campaigns thead{display:none}table.campaigns,table.campaigns tbody,table.campaigns tr,table.campaigns td{display:block;width:auto}
table.campaigns tr{border-bottom:1px solid var(--line);padding:6px 0}table.campaigns td{border:0;padding:2px 10px;text-align:left}
table.campaigns td[data-label]::before{content:attr(data-label) ": ";font-weight:600}.phone-row{width:100%;border-left:0;padding-left:0}input[type=file],input[type=text],input[type=email],input[type=search]{width:100%}.row>div{flex:1 1 100%}.frame-375,.frame-600{width:100%}figure{width:100%}table.posts th,table.posts td{padding:6px}}
@media (prefers-color-scheme:dark){
:root{--bg:#111418;--fg:#e8eaed;--card:#1b1f24;--line:#3a414b;--muted:#a8b0bb;--accent:#8ab4ff;--bad:#ff8a80;--warn:#ffcc66;--ok:#6fdc8c}
body{background:var(--bg);color:var(--fg)}
a{color:var(--accent)}
.card,pre.source,table.posts{background:var(--card);color:var(--fg)}
.error{background:#2a1513}
[role=tab][aria-selected=true]{background:var(--card);color:var(--fg)}
button,.button{background:#3b7be0;color:#fff}
button.danger{background:#c0392b}
button.link,button.quiet,.button.quiet{background:none;color:var(--accent)}
.state{background:#2d333b;color:var(--fg)}
.state-sending{background:#1e3a8a;color:#dbeafe}.state-completed{background:#14532d;color:#dcfce7}
.state-paused{background:#78350f;color:#fef3c7}.state-cancelled{background:#7f1d1d;color:#fee2e2}.state-scheduled{background:#4c1d95;color:#ede9fe}
}
`;

export const CONSOLE_CSS = `${PREVIEW_CSS}${CONSOLE_OWN_CSS}`;

export const CONSOLE_JS = `
(() => {
  'use strict';
${TABS_SCRIPT}
  showTab(currentTab());

  // A form marked data-once is sent once: a double click, or Enter pressed twice, sends nothing more.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!form.matches || !form.matches('form[data-once]')) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = '1';
    // After the browser has built the request: a disabled button is left out of it.
    setTimeout(() => { for (const b of form.querySelectorAll('button')) b.disabled = true; }, 0);
  });

  // Counts update in place: every [data-live] element polls its JSON and fills [data-field] below it.
  function fill(root, data) {
    for (const el of root.querySelectorAll('[data-field]')) {
      const value = data[el.dataset.field];
      if (value === undefined) continue;
      if (el.tagName === 'PROGRESS') { el.value = value; el.textContent = value + '%'; }
      else if (el.dataset.field === 'state') { el.textContent = value; el.className = 'state state-' + value; }
      else el.textContent = value;
    }
    // Actions that fit the new state appear, the others go (a finished campaign cannot be paused).
    for (const el of root.querySelectorAll('[data-when-state]')) el.hidden = !el.dataset.whenState.split(' ').includes(data.state);
  }
  async function poll(root) {
    try {
      const response = await fetch(root.dataset.live, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (response.ok) {
        const data = await response.json();
        const rows = data.campaigns || [data.campaign];
        for (const row of rows) {
          const target = root.dataset.id ? (row.id === root.dataset.id ? root : null) : root.querySelector('[data-id="' + CSS.escape(row.id) + '"]');
          if (target) fill(target, row);
        }
        root.dataset.updated = String(Date.now());
        const active = rows.some((row) => row.active);
        setTimeout(() => poll(root), active ? 1000 : 5000);
        return;
      }
    } catch (_) {}
    setTimeout(() => poll(root), 5000);
  }
  for (const root of document.querySelectorAll('[data-live]')) poll(root);

  // An import shows its upload's progress, then the report the server answers with.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!form.matches || !form.matches('form[data-upload]')) return;
    event.preventDefault();
    const bar = form.querySelector('progress');
    const out = form.querySelector('output');
    bar.hidden = false;
    out.textContent = 'Uploading…';
    const request = new XMLHttpRequest();
    request.open('POST', form.action);
    request.setRequestHeader('accept', 'text/html');
    const id = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + String(Date.now()));
    form.elements.importId.value = id;
    let done = false;
    async function rows() {
      if (done) return;
      try {
        const answer = await fetch(form.action + '-progress?id=' + encodeURIComponent(id), { cache: 'no-store' });
        if (answer.ok && !done) out.textContent = 'Importing… ' + (await answer.json()).rows.toLocaleString('en') + ' rows read';
      } catch (_) {}
      setTimeout(rows, 500);
    }
    request.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      out.textContent = 'Uploading… ' + bar.value + '%';
    });
    request.upload.addEventListener('load', () => {
      out.textContent = 'Importing… (the report follows when every row is read)';
      rows();
    });
    request.addEventListener('loadend', () => { done = true; });
    request.addEventListener('load', () => {
      const next = new DOMParser().parseFromString(request.responseText, 'text/html').getElementById('app');
      if (next) document.getElementById('app').replaceWith(document.adoptNode(next));
      else out.textContent = 'The server answered ' + request.status + '.';
    });
    request.addEventListener('error', () => { out.textContent = 'The upload did not reach the server.'; });
    request.send(new FormData(form));
  });
})();
`;
