import { describe, expect, it } from 'vitest';
import { isNewsletterError } from '../../src/errors.ts';
import { createToken, listUnsubscribeHeaders, unsubscribeUrl, verifyToken } from '../../src/subscribers/tokens.ts';
import { DEV_SECRET, signingSecrets } from '../../src/subscribers/signing-secrets.ts';

const SECRET = 'a'.repeat(40);
const OLD = 'b'.repeat(40);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isNewsletterError(error) ? error.code : 'not-ours';
  }
  return undefined;
}

describe('tokens', () => {
  it('round-trips the subscriber id and uses URL-safe characters only', () => {
    const token = createToken(SECRET, 'abc_DEF-123', 'unsubscribe');
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyToken({ current: SECRET }, token, 'unsubscribe')).toBe('abc_DEF-123');
  });

  it('is deterministic per secret, id and purpose', () => {
    expect(createToken(SECRET, 'x1', 'unsubscribe')).toBe(createToken(SECRET, 'x1', 'unsubscribe'));
    expect(createToken(SECRET, 'x1', 'unsubscribe')).not.toBe(createToken(SECRET, 'x1', 'confirm'));
    expect(createToken(SECRET, 'x1', 'unsubscribe')).not.toBe(createToken(OLD, 'x1', 'unsubscribe'));
  });

  it('rejects a token made for the other purpose', () => {
    const confirm = createToken(SECRET, 'id1', 'confirm');
    expect(codeOf(() => verifyToken({ current: SECRET }, confirm, 'unsubscribe'))).toBe('UNSUBSCRIBE_TOKEN_INVALID');
  });

  it('rejects forged, truncated, padded and swapped-id tokens', () => {
    const token = createToken(SECRET, 'id1', 'unsubscribe');
    const [idPart, mac] = token.split('.') as [string, string];
    const otherId = Buffer.from('id2').toString('base64url');
    const flipped = mac.slice(0, 10) + (mac[10] === 'A' ? 'B' : 'A') + mac.slice(11);
    const bad = [
      token.slice(0, -1),
      token.slice(0, -5),
      `${token}=`,
      `${token}A`,
      `${otherId}.${mac}`,
      `${idPart}.${flipped}`,
      `${idPart}`,
      `.${mac}`,
      `${idPart}.${mac}.${mac}`,
      '',
      'x'.repeat(5000),
      `${idPart}.${mac.replace(/./, '+')}`,
      createToken(OLD, 'id1', 'unsubscribe'),
    ];
    for (const candidate of bad) {
      expect(
        codeOf(() => verifyToken({ current: SECRET }, candidate, 'unsubscribe')),
        candidate,
      ).toBe('UNSUBSCRIBE_TOKEN_INVALID');
    }
  });

  it('accepts tokens signed with the previous secret during a rotation', () => {
    const old = createToken(OLD, 'id9', 'unsubscribe');
    expect(verifyToken({ current: SECRET, previous: OLD }, old, 'unsubscribe')).toBe('id9');
    expect(codeOf(() => verifyToken({ current: SECRET }, old, 'unsubscribe'))).toBe('UNSUBSCRIBE_TOKEN_INVALID');
  });
});

describe('List-Unsubscribe headers', () => {
  it('builds both URIs on one line and the RFC 8058 one-click header', () => {
    const token = createToken(SECRET, 'id1', 'unsubscribe');
    const headers = listUnsubscribeHeaders({ publicUrl: 'https://news.example.com/', mailto: 'leave@example.com', token });
    expect(headers['List-Unsubscribe']).toBe(`<https://news.example.com/unsubscribe/${token}>, <mailto:leave@example.com?subject=unsubscribe-${token}>`);
    expect(headers['List-Unsubscribe']).not.toMatch(/[\r\n]/);
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(unsubscribeUrl('https://n.example', token)).toBe(`https://n.example/unsubscribe/${token}`);
  });

  it('refuses CR/LF and other breaking characters in any input', () => {
    const base = { publicUrl: 'https://n.example', mailto: 'a@example.com', token: 'abc.def' };
    for (const patch of [
      { publicUrl: 'https://n.example\r\nBcc: x@evil.example' },
      { mailto: 'a@example.com\nX: y' },
      { token: 'abc\r.def' },
      { token: 'abc>, <https://evil.example' },
      { mailto: 'a@example.com?subject=x' },
      { publicUrl: 'javascript:alert(1)' },
      { token: '' },
    ]) {
      expect(
        codeOf(() => listUnsubscribeHeaders({ ...base, ...patch })),
        JSON.stringify(patch),
      ).toBe('HEADER_VALUE_INVALID');
    }
  });
});

describe('signingSecrets', () => {
  it('refuses to run without a secret outside dev mode', () => {
    expect(codeOf(() => signingSecrets({ secrets: { current: undefined, previous: undefined }, devMode: false }))).toBe('CONFIG_INVALID');
  });

  it('uses the public dev secret only in dev mode, and the real one when set', () => {
    expect(signingSecrets({ secrets: { current: undefined, previous: undefined }, devMode: true })).toEqual({
      current: DEV_SECRET,
    });
    expect(signingSecrets({ secrets: { current: SECRET, previous: OLD }, devMode: true })).toEqual({
      current: SECRET,
      previous: OLD,
    });
  });
});
