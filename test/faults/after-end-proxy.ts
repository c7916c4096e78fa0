/**
 * A TCP proxy in front of an SMTP server that interferes with one thing only: the reply to the
 * end of a message (the final dot). It holds that reply back for a while, or drops the client's
 * connection instead of passing it on, as a slow relay or a network failure would. The server
 * behind has taken the message either way; the client cannot tell. Everything else passes as it is.
 */
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

/** What to do with the reply to the end of a message to `to`: pass it on after `delayMs`, or drop the connection. */
export type AfterEnd = { delayMs: number } | 'drop' | undefined;

export type AfterEndProxy = TcpProxy;

const END = Buffer.from('\r\n.\r\n');

export async function startAfterEndProxy(targetPort: number, decide: (to: string) => AfterEnd): Promise<AfterEndProxy> {
  return startTcpProxy({ port: targetPort }, ({ client, upstream, cut }) => {
    // Client to server: commands until the server says 354, then the message until its end.
    let mode: 'commands' | 'message' | 'end sent' = 'commands';
    let recipient = '';
    let commandLine = '';
    let tail = Buffer.alloc(0);
    let action: AfterEnd;
    client.on('data', (chunk: Buffer) => {
      if (mode === 'commands') {
        commandLine += chunk.toString('latin1');
        const lines = commandLine.split('\r\n');
        commandLine = lines.pop()!;
        for (const line of lines) recipient = /^RCPT TO:\s*<([^>]*)>/i.exec(line)?.[1]?.toLowerCase() ?? recipient;
      } else if (mode === 'message') {
        const seen = Buffer.concat([tail, chunk]);
        if (seen.includes(END)) {
          mode = 'end sent';
          action = decide(recipient);
        }
        tail = seen.subarray(-(END.length - 1));
      }
      upstream.write(chunk);
    });

    // Server to client, in order; the reply to the end may wait, or never arrive.
    let replyLine = '';
    let forwarded = Promise.resolve();
    upstream.on('data', (chunk: Buffer) => {
      let delayMs = 0;
      if (mode === 'end sent') {
        mode = 'commands';
        if (action === 'drop') return cut();
        delayMs = action?.delayMs ?? 0;
      }
      replyLine += chunk.toString('latin1');
      const lines = replyLine.split('\r\n');
      replyLine = lines.pop()!;
      // The client sends the message only after it has this 354, so what it sends next is the message.
      if (lines.some((line) => line.startsWith('354'))) {
        mode = 'message';
        tail = Buffer.alloc(0);
      }
      forwarded = forwarded.then(async () => {
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (!client.destroyed) client.write(chunk);
      });
    });
  });
}
