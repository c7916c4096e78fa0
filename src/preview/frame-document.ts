/**
 * The email as a preview frame shows it. PURE.
 *
 * A frame's `prefers-color-scheme` follows the editor's operating system, not the page,
 * so the light frames switch the dark rules off and the dark frame switches them on
 * (`@media (prefers-color-scheme: dark)` becomes `@media not all` or `@media all`),
 * which is what a client that honours the query shows in each mode.
 */
export type FrameScheme = 'light' | 'dark';

const DARK_QUERY = /@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)/gi;
const LIGHT_QUERY = /@media\s*\(\s*prefers-color-scheme\s*:\s*light\s*\)/gi;

export function frameDocument(html: string, scheme: FrameScheme): string {
  const styled = html
    .replace(DARK_QUERY, scheme === 'dark' ? '@media all' : '@media not all')
    .replace(LIGHT_QUERY, scheme === 'light' ? '@media all' : '@media not all');
  // Links open outside the preview; the scheme pins the canvas and form controls.
  const head = `<base target="_blank"><style>:root{color-scheme:${scheme} !important}</style>`;
  const at = styled.search(/<head[^>]*>/i);
  if (at === -1) return `${head}${styled}`;
  const end = styled.indexOf('>', at) + 1;
  return `${styled.slice(0, end)}${head}${styled.slice(end)}`;
}
