/** The archive's Atom feed (RFC 4287). PURE: the caller passes every value, the time included. */

export interface AtomEntry {
  /** A permanent IRI; the issue's public URL. */
  id: string;
  title: string;
  url: string;
  /** ISO 8601. */
  published: string;
  updated: string;
  summary: string;
}

export interface AtomFeed {
  title: string;
  /** The feed's own URL, also its id. */
  selfUrl: string;
  /** The HTML index of the same entries. */
  htmlUrl: string;
  author: string;
  language: string | undefined;
  /** The newest entry's time, or a fixed time when there is none. */
  updated: string;
  entries: AtomEntry[];
}

// Characters XML 1.0 cannot carry at all, even escaped.
const NOT_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function escapeXml(value: string): string {
  return value.replace(NOT_XML, '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function atomFeed(feed: AtomFeed): string {
  const x = escapeXml;
  const entries = feed.entries.map(
    (e) => `  <entry>
    <id>${x(e.id)}</id>
    <title type="text">${x(e.title)}</title>
    <link rel="alternate" type="text/html" href="${x(e.url)}"/>
    <published>${x(e.published)}</published>
    <updated>${x(e.updated)}</updated>
    <summary type="text">${x(e.summary)}</summary>
  </entry>
`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"${feed.language ? ` xml:lang="${x(feed.language)}"` : ''}>
  <id>${x(feed.selfUrl)}</id>
  <title type="text">${x(feed.title)}</title>
  <link rel="self" type="application/atom+xml" href="${x(feed.selfUrl)}"/>
  <link rel="alternate" type="text/html" href="${x(feed.htmlUrl)}"/>
  <updated>${x(feed.updated)}</updated>
  <author><name>${x(feed.author)}</name></author>
${entries.join('')}</feed>
`;
}
