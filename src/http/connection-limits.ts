/**
 * How long a client may take, and how many may be connected at once, so that slow clients
 * (slowloris: headers or a body sent a byte at a time, connections that never send) cannot
 * hold the web server's connections. The production defaults are here, in one place; tests
 * pass shorter ones through ServerDeps.connectionLimits.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface ConnectionLimits {
  /** From a new connection, or from a request's first byte, until its headers are all in. */
  headersTimeoutMs: number;
  /** From a request's headers until its body is all in. The admin API, once its token is checked, is not held to it. */
  bodyTimeoutMs: number;
  /** How long a keep-alive connection may wait, idle, for its next request. */
  keepAliveTimeoutMs: number;
  /** A connection on which nothing is sent or received for this long is closed, whatever it is doing. */
  idleTimeoutMs: number;
  /** Open connections at most; more are closed as they come in. */
  maxConnections: number;
}

export const CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  // A public body is at most 16 KB: ten seconds is plenty even on a poor mobile link.
  bodyTimeoutMs: 10_000,
  // Longer than the 60 s idle timeout of the usual proxies and load balancers in front, so
  // they close first and never send a request on a connection we are closing.
  keepAliveTimeoutMs: 72_000,
  // Longer than the longest silent wait of a handler: a test send waiting on SMTP (60 s by default).
  idleTimeoutMs: 120_000,
  // Well under the usual 1,024 open files of a process, with room for Redis and SMTP.
  maxConnections: 1_000,
});

/** The fastify options (Node's http server options among them) that carry these limits. */
export function serverTimeoutOptions(limits: ConnectionLimits) {
  return {
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      // Node looks for expired header deadlines this often (30 s by default): a quarter of the timeout keeps the cut close to it.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    },
  };
}

const bodyDeadlines = new WeakMap<IncomingMessage, NodeJS.Timeout>();

/**
 * What Node's own options leave open: a connection that never sends a byte (Node's header
 * deadline starts at a request's first byte), a body sent slowly (Node's request timeout
 * would also cut the admin API's large uploads, so the body deadline is per request here),
 * and the connection cap.
 */
export function applyConnectionLimits(app: FastifyInstance, limits: ConnectionLimits): void {
  app.server.maxConnections = limits.maxConnections;
  const firstRequest = new WeakMap<Socket, NodeJS.Timeout>();
  app.server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => socket.destroy(), limits.headersTimeoutMs).unref();
    firstRequest.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  });

  app.addHook('onRequest', async (request, reply) => {
    const raw = request.raw;
    clearTimeout(firstRequest.get(raw.socket));
    if (raw.complete) return;
    const timer = setTimeout(() => {
      // An injected request (fastify.inject, tests) has no real socket to cut.
      if (raw.complete || typeof raw.socket?.destroy !== 'function') return;
      // As Node answers its own timeouts: 408 when nothing was answered yet, then close.
      if (!reply.raw.headersSent && raw.socket.writable) raw.socket.write('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      raw.socket.destroy();
    }, limits.bodyTimeoutMs).unref();
    bodyDeadlines.set(raw, timer);
  });
  // A body still arriving after the answer (a refused upload being drained) stays on the clock.
  app.addHook('onResponse', async (request) => {
    if (request.raw.complete) clearTimeout(bodyDeadlines.get(request.raw));
  });
}

/** For routes behind the admin token: an operator's upload may take as long as it takes, cut only when idle. */
export function liftBodyDeadline(request: FastifyRequest): void {
  clearTimeout(bodyDeadlines.get(request.raw));
}
