/**
 * An SMTP server in this process that accepts every message and keeps it as an .eml file
 * (the raw bytes as received) in one folder: what `newsletter demo` sends through instead
 * of a real mail server. Adapter: it owns its listening socket; close() stops it.
 *
 * A file is written under a temporary name and renamed once complete, and the server
 * answers 250 only after that, so a file that exists is a whole message and an accepted
 * message is a file.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

/** A captured file's arrival number, from its name (`0042-ann-example.org.eml`). */
function sequenceOf(path: string): number {
  return Number(/(\d+)-[^/\\]*\.eml$/.exec(path)?.[1] ?? 0);
}
export interface CaptureSmtpServer {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  readonly url: string;
  /** Paths of the files written so far, in the order the messages arrived. */
  readonly files: readonly string[];
  close(): Promise<void>;
}

/** `Ann.Lee+x@example.org` -> `ann.lee-x-example.org`: letters, digits, dot, dash only. */
export function safeFilePart(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 60) || 'message'
  );
}

export async function startCaptureSmtpServer({ dir, host = '127.0.0.1' }: { dir: string; host?: string }): Promise<CaptureSmtpServer> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  let sequence = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // The newsletter's messages are about 50 KB; anything far beyond that is not ours.
    size: 25 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        sequence += 1;
        const to = session.envelope.rcptTo[0]?.address ?? 'unknown';
        const name = `${String(sequence).padStart(4, '0')}-${safeFilePart(to)}.eml`;
        const path = join(dir, name);
        const partial = join(dir, `.${name}.part`);
        writeFile(partial, Buffer.concat(chunks))
          .then(() => rename(partial, path))
          .then(() => {
            // Writes finish in any order; the list keeps the order the messages arrived in.
            const at = files.findIndex((other) => sequenceOf(other) > sequenceOf(path));
            files.splice(at === -1 ? files.length : at, 0, path);
            callback();
          }, callback);
      });
    },
  });
  // A client that disconnects mid-message is the client's problem, not the demo's.
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://${host}:${port}`,
    files,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
