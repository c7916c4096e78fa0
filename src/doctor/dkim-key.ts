/**
 * The public half of DKIM_PRIVATE_KEY, and the key a DKIM record publishes, compared as SPKI DER
 * (RFC 6376 3.6.1: `p=` is the base64 of the DER public key; for ed25519, RFC 8463, the raw 32
 * bytes). PURE: node:crypto computes, nothing is read or sent.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';

export interface DerivedKey {
  /** `rsa` or `ed25519`, as a DKIM record's `k=` names it. */
  readonly type: string;
  /** What `p=` must hold for this key, base64. */
  readonly p: string;
}

/** Undefined when the text is not a PEM private key node can read. */
export function publicKeyOf(privateKeyPem: string): DerivedKey | undefined {
  try {
    const privateKey = createPrivateKey(privateKeyPem);
    const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    const type = privateKey.asymmetricKeyType ?? 'unknown';
    // ed25519's SPKI is a 12-byte header and the 32-byte key; DKIM publishes the key alone.
    return { type, p: (type === 'ed25519' ? der.subarray(der.length - 32) : der).toString('base64') };
  } catch {
    return undefined;
  }
}

/** `tag=value` pairs of a DKIM or DMARC record (RFC 6376 3.2); names lower-cased, spaces inside values dropped for p=. */
export function tagList(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    tags.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  return tags;
}
