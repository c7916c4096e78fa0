/**
 * Per-recipient values the rendered issue leaves open for delivery (and preview) to
 * fill. They are plain ASCII letters and underscores so they pass unchanged through
 * MJML, HTML attributes, html-to-text and a quoted-printable or 7bit encoder.
 */
export const PLACEHOLDERS = {
  unsubscribeUrl: '__NL_UNSUBSCRIBE_URL__',
  viewInBrowserUrl: '__NL_VIEW_URL__',
} as const;

export type PlaceholderValues = Record<keyof typeof PLACEHOLDERS, string>;

/** Replace every placeholder with its value. Values are inserted as given: callers pass URLs that are already safe for HTML. */
export function fillPlaceholders(template: string, values: PlaceholderValues): string {
  let out = template;
  for (const key of Object.keys(PLACEHOLDERS) as (keyof typeof PLACEHOLDERS)[]) {
    out = out.split(PLACEHOLDERS[key]).join(values[key]);
  }
  return out;
}
