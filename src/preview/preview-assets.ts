/**
 * The preview's stylesheet and script, served from the preview server (no inline
 * script, so the page's CSP can forbid it). The script keeps the page live: on a
 * change event it fetches the page again and swaps <main id="app">, keeping the open
 * tab, the typed test address and each frame's height so nothing jumps.
 */
import { TABS_SCRIPT } from './tabs-script.ts';

export const PREVIEW_CSS = `
:root{color-scheme:light;--line:#d8dbe0;--muted:#5b6472;--bad:#b42318;--warn:#8a5a00}
*{box-sizing:border-box}
[hidden]{display:none !important}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC",sans-serif;color:#1b1f24;background:#eef0f3}
main{padding:16px 16px 40px}
a{color:#1f5fbf}
h1{font-size:20px;line-height:1.3;margin:0}
h2{font-size:15px;margin:0 0 8px}
.bar{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:baseline;margin:0 0 14px}
.muted{color:var(--muted);font-size:13px}
.live{font-size:13px;color:var(--muted)}
.live::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;background:#9aa3ae;margin-right:6px}
body.connected .live::before{background:#1a7f37}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:0 0 14px}
.error{border-color:var(--bad);background:#fff4f2}
.error h2{color:var(--bad)}
.error code,.where{font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.stale{opacity:.55}
.inbox{display:grid;grid-template-columns:40px 1fr auto;gap:2px 12px;align-items:center;max-width:760px}
.avatar{grid-row:span 2;width:40px;height:40px;border-radius:50%;background:#1f5fbf;color:#fff;display:grid;place-items:center;font-weight:700}
.inbox .from{font-weight:700}
.inbox .line{grid-column:2 / span 2;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.inbox .subject{font-weight:600}
.inbox .pre{color:var(--muted)}
.inboxes{display:flex;flex-wrap:wrap;gap:12px 32px;align-items:flex-start}
.inboxes .inbox{flex:1 1 480px}
.phone-row{width:375px;border-left:1px solid var(--line);padding-left:16px}
.phone-row .top{display:flex;justify-content:space-between;gap:8px}
.phone-row .from,.phone-row .subject{font-weight:700;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.phone-row .pre{color:var(--muted);display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden}
ul.warnings{margin:0;padding-left:20px}
ul.warnings li{color:var(--warn);overflow-wrap:anywhere}
[role=tablist]{display:flex;gap:4px;border-bottom:1px solid var(--line);margin:0 0 12px}
[role=tab]{font:inherit;border:1px solid transparent;border-bottom:0;background:none;padding:6px 12px;border-radius:6px 6px 0 0;cursor:pointer;color:var(--muted)}
[role=tab][aria-selected=true]{background:#fff;border-color:var(--line);color:#1b1f24;font-weight:600;margin-bottom:-1px}
[role=tab]:focus-visible,button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #f0b000;outline-offset:2px}
.frames{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
figure{margin:0;width:min-content}
figcaption{font-size:13px;color:var(--muted);margin:0 0 6px}
iframe{display:block;border:1px solid var(--line);background:#fff;height:600px}
.frame-375{width:377px}
.frame-600{width:602px}
pre.source{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px;overflow:auto;max-height:80vh;font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
pre.text-part{max-width:78ch}
table.headers{border-collapse:collapse;font-size:13px;width:100%}
table.headers th,table.headers td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
table.headers th{white-space:nowrap}
table.headers td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
table.posts{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
table.posts th,table.posts td{padding:8px 10px;border-bottom:1px solid var(--line);text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
section.outbox{margin-top:24px}
.bad{color:var(--bad)}
form.send{display:flex;flex-wrap:wrap;gap:8px;align-items:center}
form.send input{font:inherit;padding:6px 8px;border:1px solid #767676;border-radius:6px;min-width:260px}
form.send button{font:inherit;font-weight:600;color:#fff;background:#1f5fbf;border:0;border-radius:6px;padding:7px 14px;cursor:pointer}
output{display:block;margin-top:8px}
`;

export const PREVIEW_JS = `
(() => {
  'use strict';
${TABS_SCRIPT}
  document.addEventListener('submit', async (event) => {
    const form = event.target.closest('form[data-send-test]');
    if (!form) return;
    event.preventDefault();
    const out = form.querySelector('output');
    const button = form.querySelector('button');
    button.disabled = true;
    out.textContent = 'Sending…';
    try {
      const response = await fetch('/send-test', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-preview-token': document.body.dataset.token },
        body: JSON.stringify({ post: form.dataset.post, to: form.elements.to.value }),
      });
      const answer = await response.json();
      out.textContent = answer.message;
      out.className = answer.ok ? '' : 'bad';
    } catch (error) {
      out.textContent = 'The preview server did not answer: ' + error.message;
      out.className = 'bad';
    } finally {
      button.disabled = false;
    }
  });

  let busy = false;
  let again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(location.pathname + location.search, { cache: 'no-store' });
      const next = new DOMParser().parseFromString(await response.text(), 'text/html');
      const fresh = next.getElementById('app');
      const old = document.getElementById('app');
      if (!fresh || !old) return;
      const heights = new Map([...old.querySelectorAll('iframe[name]')].map((f) => [f.name, f.style.height]));
      const typed = old.querySelector('input[name=to]');
      const adopted = document.adoptNode(fresh);
      for (const frame of adopted.querySelectorAll('iframe[name]')) {
        if (heights.get(frame.name)) frame.style.height = heights.get(frame.name);
      }
      const input = adopted.querySelector('input[name=to]');
      if (typed && input) input.value = typed.value;
      old.replaceWith(adopted);
      document.title = next.title;
      document.body.dataset.generation = next.body.dataset.generation;
      showTab(currentTab());
    } catch (_) {
      // The server is restarting; the next event or reconnect tries again.
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  showTab(currentTab());
  // A hidden tab gives its stream back (browsers allow about six connections to one
  // host) and catches up when it is shown again.
  let events;
  let lost = false;
  function connect() {
    events = new EventSource('/events');
    events.addEventListener('change', refresh);
    events.addEventListener('open', () => {
      document.body.classList.add('connected');
      if (lost) refresh();
      lost = false;
    });
    events.addEventListener('error', () => {
      document.body.classList.remove('connected');
      lost = true;
    });
  }
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      events.close();
      document.body.classList.remove('connected');
      lost = true;
    } else {
      connect();
    }
  });
  connect();
})();
`;
