/**
 * docs/http-api.md against the routes the web server really registers: built with every
 * optional part on (admin token, archive, metrics), as `newsletter server` builds it with
 * NEWSLETTER_ADMIN_TOKEN set, on a real Redis prefix. A route added to the code and not to the
 * page, or a route on the page that the server does not have, fails here.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebServer } from '../../src/processes/web-server.ts';
import { startHarness, type Harness } from '../helpers/delivery-harness.ts';
import { TOKEN } from '../helpers/admin-server.ts';
import { codeSpans } from './markdown.ts';

const PAGE = 'docs/http-api.md';
const ROUTE = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (\/\S*)$/;

interface Route {
  method: string;
  url: string;
}
const key = (route: Route) => `${route.method} ${route.url}`;

/**
 * The routes in fastify's printRoutes tree: each line is one node of the radix tree (a piece
 * of a path), indented four characters per level, with its methods in parentheses when a
 * route ends there. (`commonPrefix: false` prints a wildcard without the path above it.)
 */
function parseRouteTree(tree: string): Route[] {
  const routes: Route[] = [];
  const segments: string[] = [];
  for (const line of tree.split('\n').filter((l) => l.trim())) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) throw new Error(`cannot read this line of printRoutes: ${JSON.stringify(line)}`);
    const [, indent, segment, methods] = match;
    if (segment!.includes('|')) throw new Error(`two parameter names at one place in a path (${segment}): name them alike`);
    const depth = indent!.length / 4;
    segments.length = depth;
    segments.push(segment!);
    for (const method of methods?.split(', ') ?? []) routes.push({ method, url: segments.join('') });
  }
  return routes;
}

describe('docs/http-api.md', () => {
  let harness: Harness;
  let server: FastifyInstance;
  let registered: Route[];
  const documented = codeSpans(readFileSync(PAGE, 'utf8')).flatMap((span) => {
    const match = ROUTE.exec(span);
    return match ? [{ method: match[1]!, url: match[2]! }] : [];
  });

  beforeAll(async () => {
    harness = await startHarness({ env: { NEWSLETTER_ADMIN_TOKEN: TOKEN } });
    server = await buildWebServer(harness.app);
    await server.ready();
    registered = parseRouteTree(server.printRoutes());
  });

  afterAll(async () => {
    await server?.close();
    await harness?.close();
  });

  it('reads every route the server registers (each one is found by the router)', () => {
    expect(registered.length).toBeGreaterThan(20);
    for (const route of registered) expect(server.hasRoute({ method: route.method as HTTPMethods, url: route.url }), key(route)).toBe(true);
    expect(registered.map(key)).toEqual(expect.arrayContaining(['POST /unsubscribe/:token', 'GET /healthz', 'GET /metrics', 'DELETE /api/subscribers/:ref']));
  });

  it('answers HEAD exactly where it answers GET (the page lists GET alone, and says so)', () => {
    const urls = (method: string) => registered.filter((r) => r.method === method).map((r) => r.url);
    expect(urls('HEAD').sort()).toEqual(urls('GET').sort());
  });

  it('lists every route the server registers', () => {
    const onPage = new Set(documented.map(key));
    const missing = registered.filter((r) => r.method !== 'HEAD' && !onPage.has(key(r))).map(key);
    expect(missing).toEqual([]);
  });

  it('lists no route the server does not register', () => {
    expect(documented.length).toBeGreaterThan(0);
    const real = new Set(registered.map(key));
    expect(documented.filter((r) => !real.has(key(r))).map(key)).toEqual([]);
  });
});
