/**
 * Unsubscribe and confirmation tokens, and the List-Unsubscribe headers (RFC 2369, RFC 8058).
 * PURE: no I/O, no clock, no env. The secret is passed in.
 *
 * A token is `<base64url subscriber id>.<base64url HMAC-SHA256>` where the MAC covers a
 * version tag, the purpose and the id. The id travels in the token so the server can verify
 * without a lookup table; the MAC makes it unforgeable and binds it to one purpose, so a
 * confirmation link cannot be replayed as an unsubscribe link (or the other way round).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { NewsletterError } from '../errors.ts';

export type TokenPurpose = 'unsubscribe' | 'confirm';

export interface SigningSecrets {
  current: string;
  /** The secret before the last rotation: tokens signed with it still verify. */
  previous?: string;
}

const PURPOSES: ReadonlySet<string> = new Set<TokenPurpose>(['unsubscribe', 'confirm']);
const MAC_BYTES = 32;
const MAX_ID_LENGTH = 128;
// Generous upper bound; anything longer is rejected before any work is done.
const MAX_TOKEN_LENGTH = Math.ceil((MAX_ID_LENGTH * 4) / 3) + 1 + Math.ceil((MAC_BYTES * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function mac(secret: string, subscriberId: string, purpose: TokenPurpose): Buffer {
  return createHmac('sha256', secret).update(`newsletter-token:v1:${purpose}:${subscriberId}`, 'utf8').digest();
}

function assertPurpose(purpose: string): asserts purpose is TokenPurpose {
  if (!PURPOSES.has(purpose)) throw new NewsletterError('INPUT_INVALID', `unknown token purpose "${purpose}"`);
}

export function createToken(secret: string, subscriberId: string, purpose: TokenPurpose): string {
  assertPurpose(purpose);
  if (!secret) throw new NewsletterError('CONFIG_INVALID', 'the signing secret is empty', { field: 'NEWSLETTER_SECRET' });
  if (!subscriberId || subscriberId.length > MAX_ID_LENGTH) {
    throw new NewsletterError('INPUT_INVALID', 'a subscriber id must have 1 to 128 characters');
  }
  const id = Buffer.from(subscriberId, 'utf8').toString('base64url');
  return `${id}.${mac(secret, subscriberId, purpose).toString('base64url')}`;
}

function invalid(): NewsletterError {
  return new NewsletterError('UNSUBSCRIBE_TOKEN_INVALID', 'the link is not valid: it was changed, cut short, or has expired');
}

/** Returns the subscriber id the token was made for; throws UNSUBSCRIBE_TOKEN_INVALID otherwise. */
export function verifyToken(secrets: SigningSecrets, token: string, purpose: TokenPurpose): string {
  assertPurpose(purpose);
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalid();
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) throw invalid();
  const idPart = token.slice(0, dot);
  const macPart = token.slice(dot + 1);
  if (!BASE64URL.test(idPart) || !BASE64URL.test(macPart)) throw invalid();
  const idBytes = Buffer.from(idPart, 'base64url');
  const given = Buffer.from(macPart, 'base64url');
  // Node's base64url decoder is lenient; re-encoding catches truncated or padded variants.
  if (idBytes.toString('base64url') !== idPart || given.toString('base64url') !== macPart) throw invalid();
  if (given.length !== MAC_BYTES) throw invalid();
  const subscriberId = idBytes.toString('utf8');
  if (!subscriberId || subscriberId.length > MAX_ID_LENGTH) throw invalid();
  const candidates = [secrets.current, secrets.previous].filter((s): s is string => Boolean(s));
  let ok = false;
  // Check every candidate (no early exit) so timing does not tell which secret matched.
  for (const secret of candidates) {
    if (timingSafeEqual(mac(secret, subscriberId, purpose), given)) ok = true;
  }
  if (!ok) throw invalid();
  return subscriberId;
}

export function unsubscribeUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/unsubscribe/${token}`;
}

export function confirmUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/confirm/${token}`;
}

// CR/LF would inject headers; angle brackets, commas and spaces would break the URI list.
const UNSAFE_IN_HEADER = /[\u0000-\u0020\u007f<>,]/;

function assertHeaderSafe(field: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || UNSAFE_IN_HEADER.test(value)) {
    throw new NewsletterError('HEADER_VALUE_INVALID', `${field} must be non-empty without line breaks, spaces, "<", ">" or ","`, {
      field,
    });
  }
}

export interface ListUnsubscribeHeaders {
  'List-Unsubscribe': string;
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click';
}

/**
 * The headers mailbox providers use for their own unsubscribe button. One line, never
 * folded: folding has broken DKIM signatures elsewhere.
 */
export function listUnsubscribeHeaders(opts: { publicUrl: string; mailto: string; token: string }): ListUnsubscribeHeaders {
  assertHeaderSafe('publicUrl', opts.publicUrl);
  assertHeaderSafe('mailto', opts.mailto);
  assertHeaderSafe('token', opts.token);
  if (!/^https?:\/\//i.test(opts.publicUrl)) {
    throw new NewsletterError('HEADER_VALUE_INVALID', 'publicUrl must be an http(s) URL', { field: 'publicUrl' });
  }
  if (/[?&#]/.test(opts.mailto) || !opts.mailto.includes('@')) {
    throw new NewsletterError('HEADER_VALUE_INVALID', 'mailto must be a plain address', { field: 'mailto' });
  }
  const https = unsubscribeUrl(opts.publicUrl, opts.token);
  const mailto = `mailto:${opts.mailto}?subject=unsubscribe-${opts.token}`;
  return {
    'List-Unsubscribe': `<${https}>, <${mailto}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}
