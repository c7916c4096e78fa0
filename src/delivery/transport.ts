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
   * responseCode, response, command), marked `endSent: true` when the end of the message had
   * been handed to the connection: the server may have accepted it. `beforeEnd` runs once the
   * server is taking the message; its end (the final dot, after which the server may accept it)
   * waits for it, and is never sent when it fails.
   */
  send(envelope: Envelope, raw: Buffer, beforeEnd?: () => Promise<void>): Promise<string>;
  close(): Promise<void>;
}

/** What a failed send rejects with: see MessageTransport.send. */
export interface SendFailure extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  /** The end of the message had been handed to the connection when the send failed. */
  endSent?: true;
  /**
   * The session had reached this message's envelope when the send failed: a reply then answered
   * MAIL FROM, RCPT TO or DATA, even where nodemailer reports a 421 as the connection closing
   * (command 'CONN'). A receiving domain's throttle comes there (throttle-reply.ts).
   */
  inTransaction?: true;
}

/**
 * How long each step of a send may take, timed here rather than by the pool: nodemailer has one
 * socket inactivity timeout for the whole session, and the reply to the end of the message may
 * take far longer than any other (RFC 5321 4.5.3.2.6 gives the server 10 minutes), while a
 * timeout there can no longer be retried safely. The pool's own socketTimeout must be at least
 * the longer of the two: it then times only what comes outside a send (RSET, QUIT, idle).
 */
export interface SendTimeouts {
  /**
   * Each step up to the end of the message, from the moment a pooled connection takes the
   * message: setting a new connection up (connect to login), the envelope's replies up to the
   * 354, then the message's bytes and `beforeEnd` (SMTP_TIMEOUT_MS).
   */
  commandMs: number;
  /** The reply to the end of the message (SMTP_DATA_TIMEOUT_MS). */
  endMs: number;
}

/**
 * All that nodemailer 10.6.0's pool reads from the mail object it is given (lib/smtp-pool,
 * lib/smtp-connection; the contract test lists it): `data.signal` (aborts the send: closes its
 * connection or takes it out of the queue, and fails it with EABORT), `data.dsn` and
 * `data.requireTLSExtensionEnabled` (left undefined: no DSN, no REQUIRETLS),
 * `message.getHeader('message-id')` (when a connection takes the message) and `message.messageId()`
 * (for its logs), `message.getEnvelope()` (from, to; and use8BitMime, size, dsn,
 * requireTLSExtensionEnabled, left undefined), and `message.createReadStream()` (once the
 * connection is ready for the envelope). The pool keeps the transaction's state on the envelope
 * object, so each call returns a new one.
 */
interface PoolMail {
  data: { signal?: AbortSignal; dsn?: never; requireTLSExtensionEnabled?: never };
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
 * (the connection is closed without the dot). `started` and `ending` say when the message
 * begins to go and when its end is handed over, which nodemailer tells nobody. A Buffer is
 * written in one go, as nodemailer does with a Buffer: measured, a Readable here cost the
 * worker ~40 us more a message.
 * Of a stream the pool reads on/removeListener('error'), pipe and destroy, and readableDidRead
 * after a reused connection failed: only `false` there makes it send the message again on
 * another connection. This one has no such field: the pool never sends a message of ours a
 * second time by itself; a failed send is the caller's to retry, through the ledger.
 */
function messageStream(
  body: Buffer | NodeJS.ReadableStream,
  { beforeEnd, started, ending }: { beforeEnd?: () => Promise<void>; started: () => void; ending: () => void },
): NodeJS.ReadableStream {
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
      started();
      const endNow = () => {
        if (destroyed) return;
        ending();
        destination.end();
      };
      // Once the end is written, a dropped connection can no longer be told apart from a server
      // that took the message and then died: it is "outcome unknown", never sent again. So the end
      // waits for the next I/O poll, where a close the server has already sent is seen first and
      // the message stays one to retry. Measured over loopback with a server that cuts at the
      // message's first bytes and beforeEnd resolving 0-2 ms after the body went: 107 of 300 such
      // sends were marked endSent when the end went at once, 3 of 300 with this wait. A cut that
      // comes later is ambiguous on the wire too.
      const end = () => setImmediate(() => setImmediate(endNow));
      const finish = () => (beforeEnd ? beforeEnd().then(end, fail) : end());
      if (Buffer.isBuffer(body)) {
        destination.write(body);
        void finish();
      } else {
        body.once('error', fail);
        body.once('end', () => void finish());
        body.pipe(destination, { end: false });
      }
      return destination;
    },
  }) as unknown as NodeJS.ReadableStream;
}

/** The steps of a send, each timed on its own (SendTimeouts). */
type Step = 'connection' | 'envelope' | 'message' | 'end';

const WAITING_FOR: Record<Step, string> = {
  connection: 'setting the connection up',
  envelope: 'the replies to the envelope (MAIL FROM, RCPT TO, DATA)',
  message: 'the message to go out',
  end: 'the reply to the end of the message',
};

/**
 * One send's clock. Each step starts when the pool reaches it: the connection takes the message
 * (it reads the message id then), the session is ready for the envelope (it asks for the stream),
 * the server said 354 (it pipes the stream), the end is handed over. When a step runs out, the
 * abort signal makes the pool close that connection and fail the send.
 */
function stepClock(timeouts: SendTimeouts) {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  return {
    signal: controller.signal,
    start(step: Step) {
      clearTimeout(timer);
      const ms = step === 'end' ? timeouts.endMs : timeouts.commandMs;
      timer = setTimeout(() => {
        const error: SendFailure = Object.assign(new Error(`Timeout: waited ${ms} ms for ${WAITING_FOR[step]}`), { code: 'ETIMEDOUT', command: 'CONN' });
        controller.abort(error);
      }, ms);
    },
    stop() {
      clearTimeout(timer);
    },
    /** The timeout that aborted the send, if one did: it stands for the pool's EABORT. */
    timedOut(): SendFailure | undefined {
      return controller.signal.aborted ? (controller.signal.reason as SendFailure) : undefined;
    },
  };
}

export function nodemailerTransport(mail: Transporter, options: { dkim?: DKIMOptions; timeouts?: SendTimeouts } = {}): MessageTransport {
  const pool = (mail as unknown as { transporter: Partial<SmtpPoolLike> }).transporter;
  if (typeof pool?.send !== 'function') throw new TypeError('nodemailerTransport needs a pooled transporter (createTransport({ pool: true, ... }))');
  const send = pool.send.bind(pool);
  const signer = options.dkim ? new DKIM({ headerFieldNames: DKIM_SIGNED_HEADERS, ...options.dkim }) : undefined;
  const { timeouts } = options;
  return {
    send(envelope, raw, beforeEnd) {
      const clock = timeouts && stepClock(timeouts);
      let endSent = false;
      let inTransaction = false;
      // SMTPConnection.send takes a Buffer or a stream; the DKIM signer hands back a stream.
      const body = messageStream(signer ? signer.sign(raw) : raw, {
        beforeEnd,
        started: () => clock?.start('message'),
        ending: () => {
          endSent = true;
          clock?.start('end');
        },
      });
      const messageId = envelope.messageId ?? '';
      return new Promise((resolve, reject) => {
        send(
          {
            data: clock ? { signal: clock.signal } : {},
            message: {
              getEnvelope: () => ({ from: envelope.from, to: [envelope.to] }),
              messageId: () => messageId,
              getHeader: () => {
                clock?.start('connection');
                return messageId;
              },
              createReadStream: () => {
                clock?.start('envelope');
                inTransaction = true;
                return body;
              },
            },
          },
          (error, info) => {
            clock?.stop();
            if (!error) return resolve(String(info?.response ?? ''));
            const failure: SendFailure = clock?.timedOut() ?? error;
            if (endSent) failure.endSent = true;
            if (inTransaction) failure.inTransaction = true;
            reject(failure);
          },
        );
      });
    },
    async close() {
      mail.close();
    },
  };
}
