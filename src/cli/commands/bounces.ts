import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { NewsletterError } from '../../errors.ts';
import { classifyInboundMessage, type InboundVerdict } from '../../inbound/classify-inbound-message.ts';
import { parseOurMessageId } from '../../inbound/our-message-id.ts';
import { MAX_INPUT_BYTES, parseInboundMessage } from '../../inbound/parse-inbound-message.ts';
import type { CliRun } from '../cli-io.ts';
import { writeLine } from '../command-helpers.ts';

export function registerBouncesCommand(program: Command, { io }: CliRun): void {
  const group = program.command('bounces').description('Read bounces, complaints and replies that came back by mail');

  group
    .command('parse')
    .description('Classify saved messages (.eml files, or folders of them) as hard, soft, complaint, auto-reply, unsubscribe or none; reads no Redis')
    .argument('<paths...>', '.eml files or folders (searched for .eml files, sorted by name)')
    .option('--json', 'print one object per file: {file, kind, recipients: [{address, status, kind, reason}], campaignId, subscriberId, messageId}')
    .action(async (paths: string[], flags: { json?: boolean }) => {
      const files = (await Promise.all(paths.map(emlFiles))).flat();
      for (const file of files) {
        const verdict = classifyInboundMessage(await parseInboundMessage(await readStart(file)));
        print(file, verdict, { json: flags.json === true }, (line) => writeLine(io.stdout, line));
      }
    });
}

/** The one place output is written, so it can move to another writer without touching the rest. */
function print(file: string, verdict: InboundVerdict, { json }: { json: boolean }, write: (line: string) => void): void {
  const messageId = verdict.original?.messageId ?? null;
  const ours = parseOurMessageId(messageId);
  const recipients = verdict.recipients.map(({ address, status, kind, reason }) => ({ address, status, kind, reason }));
  if (json) {
    write(JSON.stringify({ file, kind: verdict.kind, recipients, campaignId: ours?.campaignId ?? null, subscriberId: ours?.subscriberId ?? null, messageId }));
    return;
  }
  const who = recipients.map((r) => `${r.address} ${r.kind}${r.status ? ` ${r.status}` : ''} ${r.reason}`).join('; ');
  const match = ours ? ` (campaign ${ours.campaignId}, subscriber ${ours.subscriberId})` : '';
  write(`${file}: ${verdict.kind}${who ? `: ${who}` : verdict.reason ? ` (${verdict.reason})` : ''}${match}`);
}

/** The path itself when it is a file; the .eml files under it, sorted, when it is a folder. */
async function emlFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw unreadable(path, error);
  });
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw unreadable(path, error);
  });
  const found = entries
    .filter((entry) => entry.isFile() && entry.name.toLowerCase().endsWith('.eml'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  if (found.length === 0) throw new NewsletterError('MESSAGE_UNREADABLE', 'no .eml files in this folder', { file: path });
  return found;
}

/** The first MAX_INPUT_BYTES + 1 bytes: the parser reads no more, and the extra byte tells it the file was longer. */
async function readStart(file: string): Promise<Buffer> {
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    throw unreadable(file, error);
  });
  try {
    const buffer = Buffer.alloc(MAX_INPUT_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } catch (error) {
    throw unreadable(file, error as NodeJS.ErrnoException);
  } finally {
    await handle.close();
  }
}

function unreadable(file: string, error: NodeJS.ErrnoException): NewsletterError {
  const why =
    error.code === 'ENOENT'
      ? 'no such file or folder'
      : error.code === 'EACCES'
        ? 'permission denied'
        : error.code === 'EISDIR'
          ? 'is a folder'
          : error.message;
  return new NewsletterError('MESSAGE_UNREADABLE', `cannot be read: ${why}`, { file, cause: error });
}
