import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: string;
  /** The Message-ID header, without angle brackets ('' when absent). */
  messageId: string;
  /** Date.now() when the DATA command was accepted (the client was about to send the message). */
  dataStartedAt: number;
  /** Date.now() when the server accepted it. */
  receivedAt: number;
}

/** Messages as they arrive, and promises that resolve once enough have: no polling. */
export class MessageLog {
  readonly messages: ReceivedMessage[] = [];
  private readonly waiters = new Set<() => void>();

  add(message: ReceivedMessage): void {
    this.messages.push(message);
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves with every message so far once at least `count` have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedMessage[]> {
    if (this.messages.length >= count) return Promise.resolve(this.messages);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.messages.length < count) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.messages);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`expected ${count} messages, got ${this.messages.length}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}

/** Scripted trouble, by recipient address (exact, lower case as sent). */
export interface SmtpScript {
  /** 451 4.3.0 on the first RCPT TO for these addresses, accepted afterwards. */
  deferFirst?: string[];
  /** 550 5.1.1 (no such mailbox) on RCPT TO, every time. */
  reject?: string[];
  /** Drop the TCP connection in the middle of DATA, once, for the first message to this address. */
  dropOnceDuringData?: string;
  /** Drop the TCP connection in the middle of DATA whenever this returns true for the message's recipients. */
  dropDuringData?: (to: string[]) => boolean;
  /** While it returns true, DATA gets no reply at all (the message is not counted). Gets the message's recipients. */
  holdData?: (to: string[]) => boolean;
}

export interface TestSmtpServer {
  url: string;
  port: number;
  messages: ReceivedMessage[];
  close(): Promise<void>;
  /** Stops at once, as a crashed server would: no new connections, open ones cut, messages in DATA lost. */
  crash(): Promise<void>;
  /** RCPT TO attempts per address, accepted or not. */
  rcptAttempts: Map<string, number>;
  /** Resolves once at least `count` messages have arrived. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
}

/**
 * A real SMTP server in this process on a free port. `onRcpt` may return an SMTP
 * error (with `responseCode`) to defer or reject a recipient. With `auth`, a client must log
 * in (AUTH PLAIN or LOGIN, over plain TCP too) with exactly those credentials. With `tls`, it offers STARTTLS.
 */
export async function startTestSmtpServer(
  options: {
    onRcpt?: (address: string) => { code: number; message: string } | undefined;
    script?: SmtpScript;
    port?: number;
    auth?: { user: string; pass: string };
    /** Where received messages go; a server restarted on the same port passes its predecessor's log. */
    log?: MessageLog;
    /** Offer STARTTLS with this certificate and key (PEM); without, STARTTLS is not offered. */
    tls?: { cert: string; key: string };
    /** With `tls`: TLS from the first byte (smtps://) instead of STARTTLS. */
    secure?: boolean;
  } = {},
): Promise<TestSmtpServer> {
  const log = options.log ?? new MessageLog();
  const rcptAttempts = new Map<string, number>();
  const script = options.script ?? {};
  let dropped = false;
  const scripted = (address: string): { code: number; message: string } | undefined => {
    const attempt = (rcptAttempts.get(address) ?? 0) + 1;
    rcptAttempts.set(address, attempt);
    if (script.reject?.includes(address)) return { code: 550, message: '5.1.1 <' + address + '>: Recipient address rejected: User unknown' };
    if (attempt === 1 && script.deferFirst?.includes(address)) return { code: 451, message: '4.3.0 Temporary failure, try again later' };
    return undefined;
  };
  const { auth } = options;
  const serverOptions: SMTPServerOptions = {
    authOptional: !auth,
    ...(auth && {
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(login, _session, callback) {
        if (login.username === auth.user && login.password === auth.pass) return callback(null, { user: auth.user });
        callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
      },
    }),
    ...(options.tls ? { cert: options.tls.cert, key: options.tls.key, secure: options.secure ?? false } : { disabledCommands: ['STARTTLS'] }),
    logger: false,
    onRcptTo(address, _session, callback) {
      const verdict = scripted(address.address) ?? options.onRcpt?.(address.address);
      if (verdict) {
        const error = Object.assign(new Error(verdict.message), { responseCode: verdict.code });
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      const dataStartedAt = Date.now();
      const to = session.envelope.rcptTo.map((r) => r.address);
      const dropOnce = !dropped && script.dropOnceDuringData && to.includes(script.dropOnceDuringData);
      if (dropOnce) dropped = true;
      const toDrop = dropOnce || script.dropDuringData?.(to);
      let cut = false;
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (toDrop && !cut) {
          cut = true;
          for (const connection of connections()) if (connection.session === session) connection._socket.destroy();
        }
      });
      stream.on('end', () => {
        if (toDrop || script.holdData?.(session.envelope.rcptTo.map((r) => r.address))) return;
        const raw = Buffer.concat(chunks).toString('utf8');
        const headerEnd = raw.indexOf('\r\n\r\n');
        log.add({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to,
          raw,
          messageId: /^Message-ID:\s*<([^>\r\n]*)>/im.exec(headerEnd < 0 ? raw : raw.slice(0, headerEnd))?.[1] ?? '',
          dataStartedAt,
          receivedAt: Date.now(),
        });
        callback();
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  // A client that dies mid-session (a killed worker) resets its connection: not this server's error.
  server.on('error', () => {});
  const connections = () => (server as unknown as { connections: Set<{ session: unknown; _socket: { destroy(): void } }> }).connections;
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages: log.messages,
    rcptAttempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    crash: () =>
      new Promise<void>((resolve) => {
        server.server.close(() => resolve());
        for (const connection of connections()) connection._socket.destroy();
      }),
    waitForMessages: (count, timeoutMs) => log.waitFor(count, timeoutMs),
  };
}
