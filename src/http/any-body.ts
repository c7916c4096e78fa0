/**
 * For the routes a link in an email leads to (unsubscribe, confirm): what a client posts
 * there says at most how the request came, so no body may stop the request. In the scope of
 * the plugin that calls it, every body of every content type is read as text.
 */
import type { FastifyInstance } from 'fastify';

export const ANY_BODY_BYTES = 16 * 1024;

export function readAnyBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: ANY_BODY_BYTES }, (_request, body, done) => done(null, body));
}
