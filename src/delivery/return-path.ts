/**
 * The return path (VERP): with BOUNCE_DOMAIN set, every message's envelope sender (MAIL FROM,
 * which the receiving server turns into Return-Path) is an address of its own on that
 * domain, naming the campaign and the subscriber, and signed, so that a bounce mailed back
 * to it says whom it is about and nobody can bounce someone else's address by forging one.
 * PURE: secrets are passed in.
 *
 *   bounce-<campaign ref>-<subscriber>-<signature>@<bounce domain>
 *
 * - campaign ref: 8 base32 characters of SHA-256(campaign id) (a campaign id can be longer
 *   than a local part may be, 64 characters); `test` for test sends, `confirm` for
 *   confirmation emails. The inbound side finds the campaign from its ref.
 * - subscriber: the id's bytes in base32, and everything lower case: some mail systems
 *   change the case of local parts.
 * - signature: 10 base32 characters (50 bits) of HMAC-SHA256(secret, ref and subscriber):
 *   enough that guessing one is hopeless, short enough for the 64-character limit.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SigningSecrets } from '../subscribers/tokens.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function fromBase32(text: string): Buffer | undefined {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) return undefined;
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** Return paths of messages that belong to no campaign. */
export const TEST_REF = 'test';
export const CONFIRM_REF = 'confirm';
const PREFIX = 'bounce';
const SIGNATURE_CHARS = 10;

/** The campaign's short name in its return paths. */
export function campaignRef(campaignId: string): string {
  return base32(createHash('sha256').update(campaignId, 'utf8').digest()).slice(0, 8);
}

function signature(secret: string, ref: string, subscriber: string): string {
  return base32(createHmac('sha256', secret).update(`newsletter-return-path:v1:${ref}:${subscriber}`, 'utf8').digest()).slice(0, SIGNATURE_CHARS);
}

/** The envelope sender of one message: to whom it went, in which campaign (a campaignRef, TEST_REF or CONFIRM_REF). */
export function returnPathFor(secret: string, bounceDomain: string, ref: string, subscriberId: string): string {
  const subscriber = base32(Buffer.from(subscriberId, 'utf8'));
  return `${PREFIX}-${ref}-${subscriber}-${signature(secret, ref, subscriber)}@${bounceDomain.toLowerCase()}`;
}

export type ReadReturnPath = { ok: true; ref: string; subscriberId: string } | { ok: false; why: 'not a return path' | 'forged' };

const SHAPE = new RegExp(`^${PREFIX}-([a-z2-7]{8}|${TEST_REF}|${CONFIRM_REF})-([a-z2-7]{1,103})-([a-z2-7]{${SIGNATURE_CHARS}})$`);

/**
 * Whom a return path names, once its signature is checked (current or previous secret, in
 * constant time); `forged` when it has our shape but not our signature.
 */
export function readReturnPath(secrets: SigningSecrets, address: string, bounceDomain: string): ReadReturnPath {
  const at = address.lastIndexOf('@');
  if (at < 0 || address.slice(at + 1).toLowerCase() !== bounceDomain.toLowerCase()) return { ok: false, why: 'not a return path' };
  const match = SHAPE.exec(address.slice(0, at).toLowerCase());
  if (!match) return { ok: false, why: 'not a return path' };
  const [, ref, subscriber, given] = match as unknown as [string, string, string, string];
  const bytes = fromBase32(subscriber);
  // The encoding must round-trip: otherwise two spellings would name one subscriber.
  if (!bytes || base32(bytes) !== subscriber) return { ok: false, why: 'not a return path' };
  let ok = false;
  for (const secret of [secrets.current, secrets.previous]) {
    if (secret && timingSafeEqual(Buffer.from(signature(secret, ref, subscriber)), Buffer.from(given))) ok = true;
  }
  return ok ? { ok: true, ref, subscriberId: bytes.toString('utf8') } : { ok: false, why: 'forged' };
}

/** The List-Unsubscribe mailto address when BOUNCE_DOMAIN is set: it reaches `newsletter inbound`. */
export function unsubscribeMailbox(bounceDomain: string): string {
  return `unsubscribe@${bounceDomain.toLowerCase()}`;
}
