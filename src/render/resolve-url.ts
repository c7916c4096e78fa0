/**
 * Decides what becomes of every URL in a post: made absolute against the site, kept,
 * or refused because a mail client cannot follow it. Pure.
 */

export type UrlVerdict = { kind: 'ok'; url: string; insecure: boolean } | { kind: 'data'; url: string } | { kind: 'unfollowable'; reason: string };

const FOLLOWABLE_SCHEMES = new Set(['http:', 'https:', 'mailto:', 'tel:']);

export function resolveUrl(raw: string, baseUrl: string, { allowData = false } = {}): UrlVerdict {
  const target = raw.trim();
  if (target === '' || target === '#') return { kind: 'unfollowable', reason: 'the link has no target' };
  if (/^data:/i.test(target)) {
    return allowData && /^data:image\//i.test(target)
      ? { kind: 'data', url: target }
      : { kind: 'unfollowable', reason: 'data: URLs cannot be followed from an email' };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(target)?.[1];
  if (scheme && !FOLLOWABLE_SCHEMES.has(`${scheme.toLowerCase()}:`)) {
    return { kind: 'unfollowable', reason: `mail clients cannot open ${scheme}: links` };
  }
  let url: URL;
  try {
    url = new URL(target, `${baseUrl.replace(/\/*$/, '')}/`);
  } catch {
    return { kind: 'unfollowable', reason: 'the target is not a valid URL' };
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.hostname) {
    return { kind: 'unfollowable', reason: 'the URL has no host' };
  }
  return { kind: 'ok', url: url.href, insecure: url.protocol === 'http:' };
}
