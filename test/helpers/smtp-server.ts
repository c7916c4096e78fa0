import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: string;
  /** Date.now() when the server accepted it. */
  receivedAt: number;
}

/** Scripted trouble, by recipient address (exact, lower case as sent). */
export interface SmtpScript {
  /** 451 4.3.0 on the first RCPT TO for these addresses, accepted afterwards. */
  deferFirst?: string[];
  /** 550 5.1.1 (no such mailbox) on RCPT TO, every time. */
  reject?: string[];
  /** Drop the TCP connection in the middle of DATA, once, for the first message to this address. */
  dropOnceDuringData?: string;
  /** While it returns true, DATA gets no reply at all (the message is not counted). Gets the message's recipients. */
  holdData?: (to: string[]) => boolean;
}

export interface TestSmtpServer {
  url: string;
  port: number;
  messages: ReceivedMessage[];
  close(): Promise<void>;
  /** RCPT TO attempts per address, accepted or not. */
  rcptAttempts: Map<string, number>;
  /** Resolves once at least `count` messages have arrived. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
}

/**
 * A real SMTP server in this process on a free port. `onRcpt` may return an SMTP
 * error (with `responseCode`) to defer or reject a recipient.
 */
export async function startTestSmtpServer(
  options: { onRcpt?: (address: string) => { code: number; message: string } | undefined; script?: SmtpScript } = {},
): Promise<TestSmtpServer> {
  const messages: ReceivedMessage[] = [];
  const waiters: (() => void)[] = [];
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
  const serverOptions: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: ['STARTTLS'],
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
      const toDrop = !dropped && script.dropOnceDuringData && session.envelope.rcptTo.some((r) => r.address === script.dropOnceDuringData);
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (toDrop && !dropped) {
          dropped = true;
          for (const connection of (server as unknown as { connections: Set<{ session: unknown; _socket: { destroy(): void } }> }).connections) {
            if (connection.session === session) connection._socket.destroy();
          }
        }
      });
      stream.on('end', () => {
        if (toDrop || script.holdData?.(session.envelope.rcptTo.map((r) => r.address))) return;
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
        });
        for (const wake of waiters.splice(0)) wake();
        callback();
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    rcptAttempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    async waitForMessages(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${messages.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return messages;
    },
  };
}
