/**
 * The public address of an issue: the "view in browser" link delivery puts in every
 * message, and the archive page that answers it. PURE.
 */
export function issueUrl(publicUrl: string, slug: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/issues/${encodeURIComponent(slug)}`;
}
