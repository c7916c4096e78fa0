/**
 * The tiny contract delivery needs from SMTP: send these bytes to this envelope. The
 * nodemailer pool is created in the composition root and adapted here.
 *
 * The message is already complete MIME, so it goes straight to nodemailer's SMTP pool
 * (SMTPPool.send, the transport contract) instead of through Mail.sendMail, which would
 * wrap the bytes in a MimeNode and stream them through several transforms. Connection
 * pooling, reconnects, RSET after a refused recipient and dot-stuffing are still nodemailer's.
 *
 * The public way, sendMail({ envelope, raw }), was measured against this (bench/transport.bench.ts:
 * 45 KB messages to smtp-sink, CPU of the sending process, medians of two runs; BENCHMARKS.md
 * "Transport"): with the end held for beforeEnd, 223-245 us a message here against 335-357 us
 * through sendMail with a raw stream; as one Buffer, 212-230 us against 353-359 us. The public way
 * costs 36-69 % more, not the ~10 % that would have made it worth it. Nor can it hold the end
 * right: nodemailer reads a raw stream as soon as a connection takes the message, before MAIL
 * FROM, so beforeEnd ran before the server took DATA (0 of 64; here 64 of 64). So: the pool with a
 * hand-built mail object, at the price of relying on what the pool reads (PoolMail below).
 * nodemailer is pinned exactly, and test/delivery/transport-contract.test.ts fails, naming the
 * field, when a release reads anything else.
 */
import { EventEmitter } from 'node:events';
import type { Transporter } from 'nodemailer';
import DKIM, { type DKIMOptions } from 'nodemailer/lib/dkim';

export interface Envelope {
  from: string;
  to: string;
  /** For the pool's log lines. */
  messageId?: string;
}

export interface MessageTransport {
  /**
   * Resolves with the server's reply when accepted; rejects with nodemailer's error (code,
   * responseCode, response). `beforeEnd` runs once the server is taking the message; its end
   * (the final dot, after which the server may accept it) waits for it, and is never sent when it fails.
   */
  send(envelope: Envelope, raw: Buffer, beforeEnd?: () => Promise<void>): Promise<string>;
  close(): Promise<void>;
}

/**
 * All that nodemailer 10.6.0's pool reads from the mail object it is given (lib/smtp-pool,
 * lib/smtp-connection; the contract test lists it): `data.signal`, `data.dsn` and
 * `data.requireTLSExtensionEnabled` (left undefined: no abort signal, no DSN, no REQUIRETLS),
 * `message.getHeader('message-id')` and `message.messageId()` (for its logs), `message.getEnvelope()`
 * (from, to; and use8BitMime, size, dsn, requireTLSExtensionEnabled, left undefined), and
 * `message.createReadStream()`. The pool keeps the transaction's state on the envelope object, so
 * each call returns a new one.
 */
interface PoolMail {
  data: { signal?: never; dsn?: never; requireTLSExtensionEnabled?: never };
  message: {
    getEnvelope(): { from: string; to: string[] };
    messageId(): string;
    getHeader(name: 'message-id'): string;
    createReadStream(): NodeJS.ReadableStream | Buffer;
  };
}

interface SmtpPoolLike {
  send(mail: PoolMail, callback: (error: Error | null, info?: { response?: string }) => void): unknown;
}

/**
 * Headers the DKIM signature covers. RFC 8058 requires List-Unsubscribe and
 * List-Unsubscribe-Post to be signed; nodemailer's default list leaves the latter out.
 */
const DKIM_SIGNED_HEADERS =
  'From:Reply-To:Subject:Date:Message-ID:To:MIME-Version:Content-Type:List-Id:List-Unsubscribe:List-Unsubscribe-Post:X-Newsletter-Campaign';

/**
 * What nodemailer reads the message from: it pipes it into its DATA stream once the server
 * said yes to DATA, and writes the terminating dot only when that stream ends. So the bytes
 * go at once and the end waits for `beforeEnd`; if that fails, the send fails with its error
 * (the connection is closed without the dot). A Buffer is written in one go, as nodemailer
 * does with a Buffer: measured, a Readable here cost the worker ~40 us more a message.
 * Of a stream the pool reads on/removeListener('error'), pipe and destroy, and readableDidRead
 * after a reused connection failed: only `false` there makes it send the message again on
 * another connection. This one has no such field: the pool never sends a message of ours a
 * second time by itself; a failed send is the caller's to retry, through the ledger.
 */
function holdEnd(body: Buffer | NodeJS.ReadableStream, beforeEnd: () => Promise<void>): NodeJS.ReadableStream {
  const source = new EventEmitter();
  let destroyed = false;
  const fail = (error: unknown) => {
    // Destroyed, or no listener left: nodemailer has already given up on this message.
    if (!destroyed && source.listenerCount('error') > 0) source.emit('error', error);
  };
  return Object.assign(source, {
    /** Called by nodemailer when it closes the connection with the message unfinished. */
    destroy() {
      destroyed = true;
      if (!Buffer.isBuffer(body)) (body as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    },
    pipe<T extends NodeJS.WritableStream>(destination: T): T {
      const end = () => beforeEnd().then(() => !destroyed && destination.end(), fail);
      if (Buffer.isBuffer(body)) {
        destination.write(body);
        void end();
      } else {
        body.once('error', fail);
        body.once('end', () => void end());
        body.pipe(destination, { end: false });
      }
      return destination;
    },
  }) as unknown as NodeJS.ReadableStream;
}

export function nodemailerTransport(mail: Transporter, options: { dkim?: DKIMOptions } = {}): MessageTransport {
  const pool = (mail as unknown as { transporter: Partial<SmtpPoolLike> }).transporter;
  if (typeof pool?.send !== 'function') throw new TypeError('nodemailerTransport needs a pooled transporter (createTransport({ pool: true, ... }))');
  const send = pool.send.bind(pool);
  const signer = options.dkim ? new DKIM({ headerFieldNames: DKIM_SIGNED_HEADERS, ...options.dkim }) : undefined;
  return {
    send(envelope, raw, beforeEnd) {
      // SMTPConnection.send takes a Buffer or a stream; the DKIM signer hands back a stream.
      const signed = signer ? signer.sign(raw) : raw;
      const body = beforeEnd ? holdEnd(signed, beforeEnd) : signed;
      const messageId = envelope.messageId ?? '';
      return new Promise((resolve, reject) => {
        send(
          {
            data: {},
            message: {
              getEnvelope: () => ({ from: envelope.from, to: [envelope.to] }),
              messageId: () => messageId,
              getHeader: () => messageId,
              createReadStream: () => body,
            },
          },
          (error, info) => (error ? reject(error) : resolve(String(info?.response ?? ''))),
        );
      });
    },
    async close() {
      mail.close();
    },
  };
}
