/**
 * For the routes a link in an email leads to (unsubscribe, confirm): what a client posts
 * there says at most how the request came, so no body may stop the request, whatever its
 * type, shape or size (RFC 8058 names one body, but a mailbox provider or a gateway in front
 * of it may send more). In the scope of the plugin that calls it, every body is read as text,
 * its first ANY_BODY_BYTES kept and the rest discarded as it arrives.
 */
import type { FastifyInstance } from 'fastify';

export const ANY_BODY_BYTES = 16 * 1024;

/** `type/subtype`, as fastify reads a Content-Type; anything else it refuses with 415 before any parser runs. */
const MEDIA_TYPE = /^\s*[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+\s*(;|$)/;

export function readAnyBody(app: FastifyInstance): void {
  // Even a Content-Type that names no media type ("One-Click", empty) must not stop the request.
  app.addHook('onRequest', async (request) => {
    const type = request.headers['content-type'];
    if (type !== undefined && !MEDIA_TYPE.test(type)) request.headers['content-type'] = 'application/octet-stream';
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => {
    const kept: Buffer[] = [];
    let size = 0;
    let answered = false;
    // The request goes on once the first bytes are in; the rest keeps flowing and is dropped,
    // so the connection stays usable and nothing past the first bytes is held in memory.
    const answer = () => {
      if (answered) return;
      answered = true;
      done(null, Buffer.concat(kept).toString('utf8'));
    };
    payload.on('data', (chunk: Buffer) => {
      if (size < ANY_BODY_BYTES) {
        const piece = chunk.subarray(0, ANY_BODY_BYTES - size);
        kept.push(piece);
        size += piece.length;
      }
      if (size >= ANY_BODY_BYTES) answer();
    });
    payload.on('end', answer);
    // A request cut off before its first bytes were in (the client went away, or took longer
    // than the body timeout) is not a request: nothing is done.
    payload.on('error', (error: Error) => {
      if (answered) return;
      answered = true;
      done(error, undefined);
    });
  });
}
