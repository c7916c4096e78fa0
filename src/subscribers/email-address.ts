/**
 * Email normalisation and validation. PURE.
 * Stored form: trimmed, domain lower-cased, local part as given. Uniqueness uses the whole
 * address lower-cased: `Ann@x.org` and `ann@x.org` reach the same mailbox in practice, and
 * treating them as two subscribers would mail one person twice.
 */
import { NewsletterError, type ErrorLocation } from '../errors.ts';

// Dot-atom local part (RFC 5322) plus UTF-8 (RFC 6531); quoted local parts are refused.
const LOCAL_PART = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

export function normalizeEmail(input: unknown, where: ErrorLocation = {}): string {
  const fail = (why: string) =>
    new NewsletterError('SUBSCRIBER_EMAIL_INVALID', `"${String(input).slice(0, 80)}" is not a valid email address: ${why}`, {
      field: 'email',
      ...where,
    });
  if (typeof input !== 'string') throw fail('missing');
  const trimmed = input.trim();
  if (trimmed.length === 0) throw fail('empty');
  if (trimmed.length > 254) throw fail('longer than 254 characters');
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) throw fail('it needs a name, an "@" and a domain');
  const local = trimmed.slice(0, at);
  const domain = trimmed.slice(at + 1).toLowerCase();
  if (local.length > 64) throw fail('the part before "@" is longer than 64 characters');
  if (!LOCAL_PART.test(local)) throw fail('the part before "@" has characters that are not allowed');
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label))) throw fail(`"${domain}" is not a domain`);
  if (!/^(\p{L}{2,}|xn--[a-z0-9-]+)$/u.test(labels[labels.length - 1]!)) throw fail(`"${domain}" has no valid top-level domain`);
  return `${local}@${domain}`;
}

/** The key that makes an address unique. */
export function emailKey(normalized: string): string {
  return normalized.toLowerCase();
}
