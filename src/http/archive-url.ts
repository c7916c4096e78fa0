/**
 * The public address of an issue: what delivery puts into the "view in browser" link
 * (planCampaign builds `${PUBLIC_URL}/issues/<slug>`; a test holds the two together). PURE.
 */
export function issueUrl(publicUrl: string, slug: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/issues/${encodeURIComponent(slug)}`;
}

/** Where an archived issue's unsubscribe link goes: a page, no token, no address. */
export function unsubscribeHelpUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/how-to-unsubscribe`;
}
