/**
 * A plain SMTP client over a real socket, for talking to `newsletter inbound` the way a relay
 * does, one command at a time: every reply is seen (a refused RCPT, a 451 to DATA), and the
 * bytes of DATA are exactly the test's (binary, 8-bit, cut off halfway). nodemailer's client
 * would hide the first and normalise the second.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export interface Reply {
  code: number;
  /** The text of every line after the code, joined with newlines. */
  text: string;
}

export interface SmtpClient {
  /** The 220 greeting, or the 421 of a server that is full or shutting down. */
  readonly greeting: Reply;
  command(line: string | Buffer): Promise<Reply>;
  /** The next reply, without sending anything (after write()). */
  reply(): Promise<Reply>;
  /** STARTTLS, then the TLS handshake on the same socket (any certificate is taken); resolves with the TLS socket. */
  startTls(): Promise<TLSSocket>;
  /** DATA, then the message dot-stuffed and ended with CRLF.CRLF: the reply to DATA if not 354, else the reply to the end. */
  data(raw: Buffer): Promise<Reply>;
  /** MAIL FROM, each RCPT TO, DATA: every reply. */
  send(mail: { from: string; to: string[]; raw: Buffer }): Promise<{ mail: Reply; rcpt: Reply[]; data: Reply | undefined }>;
  write(bytes: string | Buffer): void;
  /** Resolves once the server has closed the connection (or it was destroyed). */
  readonly closed: Promise<void>;
  destroy(): void;
}

/** Lines starting with a dot get a second one, as RFC 5321 4.5.2 asks; the message ends with CRLF before the final dot. */
export function dotStuff(raw: Buffer): Buffer {
  const stuffed = Buffer.from(raw.toString('latin1').replace(/(^|\r\n)\./g, '$1..'), 'latin1');
  const ending = raw.subarray(-2).toString('latin1') === '\r\n' ? '.\r\n' : '\r\n.\r\n';
  return Buffer.concat([stuffed, Buffer.from(ending, 'latin1')]);
}

export async function connectSmtp(url: string, { timeoutMs = 15_000 } = {}): Promise<SmtpClient> {
  const { hostname, port } = new URL(url);
  let socket: Socket | TLSSocket = connect({ host: hostname, port: Number(port) });
  let buffered = '';
  const lines: string[] = [];
  const waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void }[] = [];
  let ended = false;

  const deliver = () => {
    // A reply is complete at a line whose code is followed by a space (or nothing).
    while (waiting.length > 0) {
      const last = lines.findIndex((line) => /^\d{3}(?: |$)/.test(line));
      if (last < 0) return;
      const replyLines = lines.splice(0, last + 1);
      const code = Number(replyLines[last]!.slice(0, 3));
      waiting.shift()!.resolve({ code, text: replyLines.map((line) => line.slice(4)).join('\n') });
    }
  };
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    const parts = buffered.split('\r\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    deliver();
  };
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const onClose = () => {
    ended = true;
    markClosed();
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`connection closed; unread: ${lines.join(' | ')}`));
  };
  const listen = (s: Socket) => {
    s.on('data', onData);
    s.on('close', onClose);
    s.on('error', () => {});
  };
  listen(socket);

  const nextReply = () =>
    new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
      const waiter = {
        resolve: (reply: Reply) => (clearTimeout(timer), resolve(reply)),
        reject: (error: Error) => (clearTimeout(timer), reject(error)),
      };
      waiting.push(waiter);
      // A reply that came before the server closed is still read.
      deliver();
      if (ended && waiting.includes(waiter)) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.reject(new Error(`connection closed; unread: ${lines.join(' | ')}`));
      }
    });

  const write = (bytes: string | Buffer) => {
    if (!socket.destroyed) socket.write(bytes);
  };
  const command = (line: string | Buffer) => {
    const reply = nextReply();
    write(Buffer.concat([Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8'), Buffer.from('\r\n')]));
    return reply;
  };
  const data = async (raw: Buffer) => {
    const go = await command('DATA');
    if (go.code !== 354) return go;
    const reply = nextReply();
    write(dotStuff(raw));
    return reply;
  };

  const greeting = await nextReply();
  return {
    greeting,
    command,
    reply: nextReply,
    data,
    async send({ from, to, raw }) {
      const mail = await command(`MAIL FROM:<${from}>`);
      const rcpt: Reply[] = [];
      for (const address of to) rcpt.push(await command(`RCPT TO:<${address}>`));
      return { mail, rcpt, data: mail.code === 250 ? await data(raw) : undefined };
    },
    async startTls() {
      const reply = await command('STARTTLS');
      if (reply.code !== 220) throw new Error(`STARTTLS answered ${reply.code} ${reply.text}`);
      const plain = socket;
      plain.removeListener('data', onData);
      plain.removeListener('close', onClose);
      const secure = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: 'localhost' });
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve);
        secure.once('error', reject);
      });
      socket = secure;
      listen(secure);
      return secure;
    },
    write,
    closed,
    destroy: () => socket.destroy(),
  };
}

/** A message as a mail system writes it: CRLF line ends. */
export function crlf(text: string): Buffer {
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8');
}
