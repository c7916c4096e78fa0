/** Where an archived issue's unsubscribe link goes: a page, no token, no address. PURE. */
export function unsubscribeHelpUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/how-to-unsubscribe`;
}
