/**
 * One message's DATA as it streams in from an SMTP client. Past the limit nothing more is
 * kept (the rest is read and dropped, so that the client gets its 552 once it has finished
 * sending), so a huge message costs no memory. A stream that breaks before its end (the
 * connection dropped mid-DATA) rejects: a truncated message is never recorded.
 */
import type { Readable } from 'node:stream';

export type MessageData = { raw: Buffer } | { tooBig: true; bytes: number };

export function readMessageData(stream: Readable, maxBytes: number): Promise<MessageData> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] | undefined = [];
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) chunks = undefined;
      else chunks?.push(chunk);
    });
    stream.once('end', () => resolve(chunks ? { raw: Buffer.concat(chunks, bytes) } : { tooBig: true, bytes }));
    stream.once('error', reject);
    // smtp-server destroys the stream without an error when nothing listens for one; 'close' before 'end' is that.
    stream.once('close', () => {
      if (!stream.readableEnded) reject(new Error('the connection closed before the end of the message'));
    });
  });
}
