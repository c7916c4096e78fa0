/**
 * PUBLIC_URL as subscribers and mailbox providers meet it: https, the web server behind it
 * answering /healthz, and a one-click unsubscribe (RFC 8058) answered without a browser. PURE:
 * the answers come from the adapter (http-probe.ts).
 */
import { verdict, type CheckResult } from './check.ts';
import { isLoopback } from './ip-match.ts';

export type HttpAnswer = { readonly status: number; readonly location?: string; readonly body: string } | { readonly error: string };

function describe(answer: HttpAnswer): string {
  return 'error' in answer ? answer.error : `HTTP ${answer.status}${answer.location ? ` to ${answer.location}` : ''}`;
}

/**
 * Unset (its default, http://localhost:3000) fails: every link in every message would point at
 * the subscriber's own machine. http warns (providers ignore one-click over plain http), and so
 * does a loopback host set on purpose (fine for a test send to oneself, not for a list).
 */
export function checkPublicUrl(input: { publicUrl: string; publicUrlSet: boolean }): CheckResult {
  const v = verdict('http.public-url', 'http');
  const fix = 'set PUBLIC_URL to the https:// address of newsletter server behind your TLS proxy, e.g. https://news.example.com';
  if (!input.publicUrlSet)
    return v.fail(`PUBLIC_URL is not set: unsubscribe links and "view in browser" would point at ${input.publicUrl}, which no subscriber can reach`, fix);
  const url = new URL(input.publicUrl);
  const problems = [
    url.protocol !== 'https:' && 'it is http: Gmail and Yahoo offer one-click unsubscribe only for an https link, and links travel unencrypted',
    isLoopback(url.hostname) && `its host ${url.hostname} is this machine: subscribers cannot reach it`,
  ].filter((problem): problem is string => typeof problem === 'string');
  if (problems.length > 0) return v.warn(`PUBLIC_URL ${input.publicUrl}: ${problems.join('; ')}`, fix);
  return v.pass(`PUBLIC_URL ${input.publicUrl} is https`);
}

export function checkHealthz(publicUrl: string, answer: HttpAnswer): CheckResult {
  const v = verdict('http.healthz', 'http');
  const url = `${publicUrl}/healthz`;
  if ('error' in answer) {
    return v.fail(`nothing answers at ${url}: ${answer.error}`, 'start newsletter server, and point your proxy (or PUBLIC_URL) at it');
  }
  if (answer.status === 200) return v.pass(`${url} answers 200`);
  if (answer.status === 503) return v.fail(`${url} answers 503: the web server cannot reach Redis`, "check the web server's REDIS_URL and that Redis is up");
  if (answer.status >= 300 && answer.status < 400) {
    return v.fail(
      `${url} answers with a redirect (${describe(answer)})`,
      'set PUBLIC_URL to the address it redirects to (https://…), so links need no redirect',
    );
  }
  return v.fail(
    `${url} answers ${describe(answer)}: it is not newsletter server, or a proxy in front refuses it`,
    'point PUBLIC_URL (or your proxy) at newsletter server',
  );
}

/**
 * A POST like a mailbox provider's, for a validly signed token of a subscriber that does not
 * exist. RFC 8058: the provider posts with no cookies and follows nothing; a 2xx is done, a
 * redirect or an error is an unsubscribe that did not happen.
 */
export function checkOneClick(publicUrl: string, answer: HttpAnswer | { readonly skip: string }): CheckResult {
  const v = verdict('http.one-click', 'http');
  if ('skip' in answer) return v.skip(answer.skip, "set NEWSLETTER_SECRET (the same as the web server's) and run doctor again");
  const where = `a one-click unsubscribe POST to ${publicUrl}/unsubscribe/…`;
  if ('error' in answer) return v.fail(`${where} got no answer: ${answer.error}`, 'start newsletter server, and point your proxy (or PUBLIC_URL) at it');
  if (answer.status >= 200 && answer.status < 300) return v.pass(`${where} is answered ${answer.status}, as RFC 8058 expects, without a redirect`);
  if (answer.status >= 300 && answer.status < 400) {
    return v.fail(
      `${where} is answered with a redirect (${describe(answer)}): mailbox providers do not follow it, so the unsubscribe is lost`,
      'set PUBLIC_URL to the final https:// address, and make the proxy pass POST /unsubscribe/* through without a redirect',
    );
  }
  if (answer.status === 400 && /UNSUBSCRIBE_TOKEN_INVALID/.test(answer.body)) {
    return v.fail(
      `${where} is refused as a forged link: the web server signs with another secret than this doctor`,
      'give newsletter server, the delivery workers and doctor the same NEWSLETTER_SECRET',
    );
  }
  if (answer.status === 404)
    return v.fail(
      `${where} is answered 404: PUBLIC_URL does not lead to newsletter server's routes`,
      'point PUBLIC_URL (and your proxy) at the root of newsletter server',
    );
  return v.fail(`${where} is answered ${describe(answer)}`, "look at the web server's log for this request");
}
