/**
 * The baseline: what a hand-written sender does. One process, nodemailer's pooled
 * transport, sendMail per recipient composing the whole message each time (with its
 * own unsubscribe link), a window of messages in flight.
 */
import { createTransport } from 'nodemailer';
import type { Identity } from '../src/config.ts';
import type { Issue } from '../src/render/issue.ts';
import { fillPlaceholders } from '../src/render/placeholders.ts';
import { createToken, unsubscribeUrl } from '../src/subscribers/tokens.ts';

export async function timeNodemailerLoop(options: {
  port: number;
  issue: Issue;
  identity: Identity;
  recipients: { id: string; email: string }[];
  connections: number;
  secret: string;
  publicUrl: string;
}): Promise<number> {
  const transport = createTransport({
    host: '127.0.0.1',
    port: options.port,
    secure: false,
    pool: true,
    maxConnections: options.connections,
    maxMessages: 10_000,
  });
  const inFlight = options.connections * 2;
  const started = process.hrtime.bigint();
  let next = 0;
  const lane = async () => {
    while (next < options.recipients.length) {
      const r = options.recipients[next++]!;
      const url = unsubscribeUrl(options.publicUrl, createToken(options.secret, r.id, 'unsubscribe'));
      const values = { unsubscribeUrl: url, viewInBrowserUrl: `${options.publicUrl}/issues/${options.issue.slug}` };
      await transport.sendMail({
        from: { name: options.identity.fromName ?? options.identity.name, address: options.identity.fromAddress },
        to: r.email,
        subject: options.issue.subject,
        html: fillPlaceholders(options.issue.html, values),
        text: fillPlaceholders(options.issue.text, values),
        headers: { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        list: { id: options.identity.listId },
      });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  transport.close();
  return seconds;
}
