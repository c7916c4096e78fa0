/**
 * The two requests doctor makes of PUBLIC_URL, as a mailbox provider would: no cookies, no
 * redirects followed, a time limit. Adapter.
 */
import type { HttpAnswer } from '../http-checks.ts';

async function request(url: string, init: RequestInit, timeoutMs: number): Promise<HttpAnswer> {
  try {
    const response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.text()).slice(0, 4_000);
    return { status: response.status, location: response.headers.get('location') ?? undefined, body };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { error: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}

export function getHealthz(publicUrl: string, timeoutMs = 10_000): Promise<HttpAnswer> {
  return request(`${publicUrl}/healthz`, { method: 'GET' }, timeoutMs);
}

/** RFC 8058 3.2: a POST with the form body `List-Unsubscribe=One-Click` to the List-Unsubscribe URI. */
export function postOneClick(unsubscribeUrl: string, timeoutMs = 10_000): Promise<HttpAnswer> {
  return request(
    unsubscribeUrl,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: 'List-Unsubscribe=One-Click' },
    timeoutMs,
  );
}
