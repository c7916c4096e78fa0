/**
 * The two requests doctor makes of PUBLIC_URL, as a mailbox provider would: no cookies, no
 * redirects followed, a time limit. The host is looked up through the configured DNS, like
 * every other name doctor reaches. Adapter.
 */
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { HttpAnswer } from '../http-checks.ts';
import { ipFamily } from '../ip-match.ts';
import type { ResolveHost } from './resolve-host.ts';

const BODY_CHARS = 4_000;

function lookupThrough(resolve: ResolveHost): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (address) => {
        if (!address) return callback(Object.assign(new Error(`${hostname} has no address in DNS`), { code: 'ENOTFOUND' }), '', 0);
        const family = ipFamily(address)!;
        // Node asks for every address when it may try both families (autoSelectFamily).
        if ((options as { all?: boolean }).all)
          return (callback as unknown as (e: null, all: { address: string; family: number }[]) => void)(null, [{ address, family }]);
        callback(null, address, family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}

function request(url: string, options: RequestOptions & { body?: string }, resolve: ResolveHost, timeoutMs: number): Promise<HttpAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((done) => {
    const req = send(target, { ...options, lookup: lookupThrough(resolve), timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < BODY_CHARS) body += chunk;
      });
      response.on('end', () => done({ status: response.statusCode ?? 0, location: response.headers.location, body: body.slice(0, BODY_CHARS) }));
      response.on('error', (error) => done({ error: error.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => done({ error: error.code ?? error.message }));
    req.end(options.body);
  });
}

export function getHealthz(publicUrl: string, resolve: ResolveHost, timeoutMs = 10_000): Promise<HttpAnswer> {
  return request(`${publicUrl}/healthz`, { method: 'GET' }, resolve, timeoutMs);
}

/** RFC 8058 3.2: a POST with the form body `List-Unsubscribe=One-Click` to the List-Unsubscribe URI. */
export function postOneClick(unsubscribeUrl: string, resolve: ResolveHost, timeoutMs = 10_000): Promise<HttpAnswer> {
  const body = 'List-Unsubscribe=One-Click';
  return request(
    unsubscribeUrl,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length), accept: 'application/json' },
      body,
    },
    resolve,
    timeoutMs,
  );
}
