/**
 * One SMTP session with the relay, as far as a send goes but no further: greeting, EHLO,
 * STARTTLS (the certificate checked but not enforced, so doctor can say what is wrong with it),
 * AUTH, MAIL FROM and RCPT TO, then RSET and QUIT. DATA is never sent. Spoken over a raw socket
 * rather than through nodemailer, whose connection upgrades and logs in by itself and so hides
 * the steps doctor reports one by one. Adapter.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ipFamily, isLoopback } from '../ip-match.ts';
import type { SmtpFacts, SmtpReply } from '../smtp-checks.ts';
import type { ResolveHost } from './resolve-host.ts';

export interface SmtpProbeInput {
  /** SMTP_URL. */
  url: string;
  /** The host's address through the configured DNS (DNS_SERVERS), so doctor and its tests see one DNS. */
  resolve: ResolveHost;
  mailFrom: string;
  rcptTo: string;
  allowSelfSigned: boolean;
  timeoutMs: number;
  /** What EHLO says we are. */
  clientName: string;
}

/** Reads whole (multi-line) replies off a socket, one per read(); a silence past the time limit rejects. */
class ReplyReader {
  private buffer = '';
  private lines: string[] = [];
  private waiting: { resolve: (reply: SmtpReply) => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | undefined;
  private failure: Error | undefined;

  constructor(
    private socket: Socket,
    private readonly timeoutMs: number,
  ) {
    this.listen(socket);
  }

  private readonly onData = (chunk: Buffer) => {
    this.buffer += chunk.toString('latin1');
    this.drain();
  };
  private readonly onEnd = () => this.fail(new Error('the relay closed the connection'));
  private readonly onError = (error: Error) => this.fail(error);

  private listen(socket: Socket): void {
    socket.on('data', this.onData).on('end', this.onEnd).on('error', this.onError);
  }

  /** After STARTTLS: read from the TLS socket, no longer from the plain one under it. */
  switchTo(socket: Socket): void {
    this.socket.off('data', this.onData).off('end', this.onEnd).off('error', this.onError);
    this.socket = socket;
    this.buffer = '';
    this.listen(socket);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
  }

  private drain(): void {
    let at: number;
    while (this.waiting && (at = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, at).replace(/\r$/, '');
      this.buffer = this.buffer.slice(at + 1);
      this.lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const lines = this.lines.splice(0);
        const waiting = this.waiting;
        this.waiting = undefined;
        clearTimeout(waiting.timer);
        waiting.resolve({ code: Number(line.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n') });
      }
    }
  }

  read(): Promise<SmtpReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.waiting = { resolve, reject, timer };
      this.drain();
    });
  }

  command(line: string): Promise<SmtpReply> {
    this.socket.write(`${line}\r\n`);
    return this.read();
  }
}

function extensions(ehlo: SmtpReply): { starttls: boolean; auth: string[] } {
  const lines = ehlo.text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().toUpperCase());
  const authLine = lines.find((line) => /^AUTH[ =]/.test(line));
  return { starttls: lines.includes('STARTTLS'), auth: authLine ? authLine.slice(5).split(/\s+/).filter(Boolean) : [] };
}

function onceConnected(socket: Socket, event: 'connect' | 'secureConnect', timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once(event, () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function tlsFacts(socket: TLSSocket): NonNullable<SmtpFacts['tls']> {
  return socket.authorized
    ? { ok: true, authorized: true }
    : { ok: true, authorized: false, authorizationError: String(socket.authorizationError ?? 'not trusted') };
}

const message = (error: unknown) => {
  const e = error as NodeJS.ErrnoException;
  return e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message;
};

export async function probeSmtp(input: SmtpProbeInput): Promise<SmtpFacts> {
  const url = new URL(input.url);
  const implicitTls = url.protocol === 'smtps:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (implicitTls ? 465 : 587));
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  let facts: SmtpFacts = {
    target: `${url.hostname}:${port}`,
    implicitTls,
    local: isLoopback(host),
    hasCredentials: user !== '',
    allowSelfSigned: input.allowSelfSigned,
    connect: { ok: false, error: 'not tried' },
  };
  const address = await input.resolve(host);
  if (!address) return { ...facts, connect: { ok: false, error: `${host} has no address in DNS` } };
  // The certificate is judged here, not by the handshake, so that doctor can say what is wrong with it.
  const tlsOptions = { host, ...(ipFamily(host) ? {} : { servername: host }), rejectUnauthorized: false };
  let socket: Socket;
  try {
    socket = implicitTls ? tlsConnect({ ...tlsOptions, host: address, port }) : netConnect({ host: address, port });
    await onceConnected(socket, implicitTls ? 'secureConnect' : 'connect', input.timeoutMs);
  } catch (error) {
    return { ...facts, connect: { ok: false, error: message(error) } };
  }
  const reader = new ReplyReader(socket, input.timeoutMs);
  try {
    facts = { ...facts, connect: { ok: true, greeting: await reader.read() } };
    if (implicitTls) facts = { ...facts, tls: tlsFacts(socket as TLSSocket) };
    let ehlo = await reader.command(`EHLO ${input.clientName}`);
    if (ehlo.code !== 250) ehlo = await reader.command(`HELO ${input.clientName}`);
    let offered = extensions(ehlo);
    if (!implicitTls) {
      facts = { ...facts, starttlsOffered: offered.starttls };
      if (offered.starttls) {
        const reply = await reader.command('STARTTLS');
        if (reply.code !== 220) return { ...facts, tls: { ok: false, error: `STARTTLS answered ${reply.code} ${reply.text}` } };
        const secure = tlsConnect({ ...tlsOptions, socket });
        try {
          await onceConnected(secure, 'secureConnect', input.timeoutMs);
        } catch (error) {
          return { ...facts, tls: { ok: false, error: message(error) } };
        }
        reader.switchTo(secure);
        socket = secure;
        facts = { ...facts, tls: tlsFacts(secure) };
        offered = extensions(await reader.command(`EHLO ${input.clientName}`));
      }
    }
    facts = { ...facts, authOffered: offered.auth };
    if (facts.hasCredentials && offered.auth.length > 0) {
      const auth =
        offered.auth.includes('PLAIN') || !offered.auth.includes('LOGIN') ? await authPlain(reader, user, pass) : await authLogin(reader, user, pass);
      facts = { ...facts, auth };
      if (auth.code !== 235) return facts;
    }
    const mailFrom = await reader.command(`MAIL FROM:<${input.mailFrom}>`);
    facts = { ...facts, mailFrom: { address: input.mailFrom, reply: mailFrom } };
    if (mailFrom.code >= 200 && mailFrom.code < 300) {
      facts = { ...facts, rcptTo: { address: input.rcptTo, reply: await reader.command(`RCPT TO:<${input.rcptTo}>`) } };
    }
    await reader.command('RSET');
    await reader.command('QUIT').catch(() => undefined);
    return facts;
  } catch (error) {
    return { ...facts, brokenOff: message(error) };
  } finally {
    socket.end();
    socket.destroy();
  }
}

function authPlain(reader: ReplyReader, user: string, pass: string): Promise<SmtpReply> {
  return reader.command(`AUTH PLAIN ${Buffer.from(`\u0000${user}\u0000${pass}`, 'utf8').toString('base64')}`);
}

async function authLogin(reader: ReplyReader, user: string, pass: string): Promise<SmtpReply> {
  const start = await reader.command('AUTH LOGIN');
  if (start.code !== 334) return start;
  const afterUser = await reader.command(Buffer.from(user, 'utf8').toString('base64'));
  if (afterUser.code !== 334) return afterUser;
  return reader.command(Buffer.from(pass, 'utf8').toString('base64'));
}
