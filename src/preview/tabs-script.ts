/**
 * The post page's tabs (arrow keys move between them, the URL's #fragment keeps the open one)
 * and frames as tall as their email. A fragment of script, shared by the preview's and the
 * console's script files so both pages behave alike; it defines showTab, fit and currentTab.
 */
export const TABS_SCRIPT = `
  const tabs = () => [...document.querySelectorAll('[role=tab]')];
  const currentTab = () => decodeURIComponent(location.hash.slice(1));
  function showTab(name) {
    const all = tabs();
    if (all.length === 0) return;
    if (!all.some((t) => t.dataset.tab === name)) name = all[0].dataset.tab;
    for (const tab of all) {
      const on = tab.dataset.tab === name;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
    }
    for (const panel of document.querySelectorAll('[role=tabpanel]')) panel.hidden = panel.id !== 'panel-' + name;
    for (const frame of document.querySelectorAll('[role=tabpanel]:not([hidden]) iframe')) fit(frame);
  }
  document.addEventListener('click', (event) => {
    const tab = event.target.closest && event.target.closest('[role=tab]');
    if (!tab) return;
    history.replaceState(null, '', '#' + tab.dataset.tab);
    showTab(tab.dataset.tab);
  });
  document.addEventListener('keydown', (event) => {
    const tab = event.target.closest && event.target.closest('[role=tab]');
    if (!tab || (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft')) return;
    const all = tabs();
    const next = all[(all.indexOf(tab) + (event.key === 'ArrowRight' ? 1 : all.length - 1)) % all.length];
    next.focus();
    next.click();
  });

  // Each frame is as tall as its email, so the page scrolls all of them together.
  function fit(frame) {
    try {
      const doc = frame.contentDocument;
      // A frame in a hidden tab has no layout yet; it is fitted when its tab is shown.
      if (doc && doc.documentElement && frame.offsetParent !== null) frame.style.height = doc.documentElement.scrollHeight + 'px';
    } catch (_) {}
  }
  document.addEventListener('load', (event) => {
    if (event.target.tagName === 'IFRAME') fit(event.target);
  }, true);
  for (const frame of document.querySelectorAll('iframe')) if (frame.contentDocument && frame.contentDocument.readyState === 'complete') fit(frame);

`;
