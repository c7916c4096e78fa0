/**
 * Admin API (mounted under /api), subscribers: add, get, list (a page at a time), count, change status, remove,
 * import a CSV (streamed body, or a multipart upload), export as CSV. Each route parses its
 * input, calls the same operation as the CLI command of the same name, and answers JSON
 * (CSV for export).
 */
import { Readable, Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { NewsletterError, isNewsletterError } from '../errors.ts';
import {
  addSubscriber,
  countSubscribers,
  exportSubscribersCsv,
  findSubscriber,
  importSubscribersCsv,
  removeSubscriber,
  setSubscriberStatus,
  subscribersPage,
} from '../operations/subscriber-operations.ts';
import { parseFilter } from '../subscribers/subscriber.ts';
import type { UnsubscribeMetrics } from '../metrics/metric-tally.ts';
import type { SubscriberStore } from '../subscribers/subscriber-store.ts';
import { parseInput, queryInt } from './admin-input.ts';

/** A CSV sent as the body is streamed into the store, never held in memory. */
export const IMPORT_MAX_BYTES = 1024 * 1024 * 1024;
/** A multipart upload (a browser form) is held in memory while it is read: kept smaller. */
export const UPLOAD_MAX_BYTES = 64 * 1024 * 1024;
export const CSV_TYPES = ['text/csv', 'application/csv'];

const filterQuery = z.strictObject({ list: z.string().optional(), status: z.string().optional() });
const pageQuery = filterQuery.extend({ after: queryInt(0, Number.MAX_SAFE_INTEGER).optional(), limit: queryInt(1, 1000).optional() });
const refParams = z.strictObject({ ref: z.string().min(1).max(320) });
const addBody = z.strictObject({ email: z.string(), name: z.string().optional(), list: z.string().optional() });
const statusBody = z.strictObject({ status: z.string(), reason: z.string().min(1).max(500).optional() });
const uploadBody = z.strictObject({ file: z.union([z.instanceof(Buffer), z.string()]) });

function tooLarge(limit: number): Error {
  return new NewsletterError('REQUEST_TOO_LARGE', `the CSV is larger than ${limit} bytes: split it`, { field: 'body' });
}

/** Passes bytes through and fails the stream past `limit`. */
function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(seen > limit ? tooLarge(limit) : null, chunk);
    },
  });
}

export async function adminSubscriberRoutes(
  app: FastifyInstance,
  deps: { subscribers: SubscriberStore; metrics?: UnsubscribeMetrics; importMaxBytes?: number },
): Promise<void> {
  const store = deps.subscribers;
  const maxBytes = deps.importMaxBytes ?? IMPORT_MAX_BYTES;

  app.post('/subscribers', async (request, reply) => {
    const body = parseInput(addBody, request.body, 'body');
    const result = await addSubscriber(store, { ...body, reason: 'added through the admin API' });
    reply.code(result.created ? 201 : 200);
    return { ok: true, ...result };
  });

  app.get('/subscribers', async (request) => {
    const { after, limit, ...filter } = parseInput(pageQuery, request.query, 'query');
    return { ok: true, ...(await subscribersPage(store, { ...parseFilter(filter), after, limit })) };
  });

  app.get('/subscribers/count', async (request) => {
    const filter = parseFilter(parseInput(filterQuery, request.query, 'query'));
    return { ok: true, count: await countSubscribers(store, filter) };
  });

  app.get('/subscribers/export', async (request, reply) => {
    const filter = parseFilter(parseInput(filterQuery, request.query, 'query'));
    const csv = await exportSubscribersCsv(store, filter);
    reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="subscribers.csv"');
    return reply.send(csv);
  });

  app.post(
    '/subscribers/import',
    { config: { accepts: [...CSV_TYPES, 'multipart/form-data'], multipartOptions: { limits: { files: 1, fileSize: UPLOAD_MAX_BYTES, parts: 1 } } } },
    async (request) => {
      const { list } = parseInput(z.strictObject({ list: z.string().optional() }), request.query, 'query');
      let input: Readable;
      if (request.isMultipart()) {
        input = Readable.from([parseInput(uploadBody, request.body, 'body').file]);
      } else if (request.body instanceof Readable) {
        // Refused before a byte is read when the length is declared; a chunked body stops at the limit
        // (the rows before it are imported, like any import that ends early).
        if (Number(request.headers['content-length'] ?? 0) > maxBytes) throw tooLarge(maxBytes);
        input = request.body.pipe(byteLimit(maxBytes));
        request.body.on('error', (error) => input.destroy(error));
      } else {
        throw new NewsletterError('INPUT_INVALID', 'send the CSV as the body (Content-Type: text/csv) or as a multipart upload in the field "file"', {
          field: 'body',
        });
      }
      try {
        return { ok: true, ...(await importSubscribersCsv(store, input, { file: 'upload.csv', list })) };
      } catch (error) {
        // The import names an unreadable stream IMPORT_FILE_INVALID; a body over the limit is a 413.
        const cause = isNewsletterError(error) ? error.cause : undefined;
        if (isNewsletterError(cause, 'REQUEST_TOO_LARGE')) throw cause;
        throw error;
      }
    },
  );

  app.get('/subscribers/:ref', async (request) => {
    const { ref } = parseInput(refParams, request.params, 'path');
    parseInput(z.strictObject({}), request.query, 'query');
    return { ok: true, subscriber: await findSubscriber(store, ref) };
  });

  app.patch('/subscribers/:ref', async (request) => {
    const { ref } = parseInput(refParams, request.params, 'path');
    const body = parseInput(statusBody, request.body, 'body');
    return { ok: true, ...(await setSubscriberStatus(store, ref, body.status, body.reason ?? 'set through the admin API', deps.metrics)) };
  });

  app.delete('/subscribers/:ref', async (request) => {
    const { ref } = parseInput(refParams, request.params, 'path');
    const removed = await removeSubscriber(store, ref);
    return { ok: true, removed: { id: removed.id, email: removed.email } };
  });
}
