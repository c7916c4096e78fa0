import { describe, expect, it } from 'vitest';
import { bearerToken, isAdminToken } from '../../src/http/admin-auth.ts';

const TOKEN = 'a'.repeat(40);

describe('the admin bearer token', () => {
  it('accepts exactly the configured token', () => {
    expect(isAdminToken(TOKEN, TOKEN)).toBe(true);
    expect(isAdminToken(TOKEN, `${TOKEN}x`)).toBe(false);
    expect(isAdminToken(TOKEN, TOKEN.slice(1))).toBe(false);
    expect(isAdminToken(TOKEN, '')).toBe(false);
    expect(isAdminToken(TOKEN, undefined)).toBe(false);
  });

  it('is read from an Authorization: Bearer header only', () => {
    expect(bearerToken(`Bearer ${TOKEN}`)).toBe(TOKEN);
    expect(bearerToken(`bearer ${TOKEN}`)).toBe(TOKEN);
    expect(bearerToken(`Basic ${TOKEN}`)).toBeUndefined();
    expect(bearerToken(TOKEN)).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
