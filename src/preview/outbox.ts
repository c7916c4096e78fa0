/**
 * The outbox: .eml files that `newsletter demo` captured, one subfolder per run. The
 * preview lists the newest and opens one. Adapter: reads the file system.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { headerText, parseCapturedMessage, parseHeaderLines, type CapturedMessage } from './captured-message.ts';

/** Where `newsletter demo` writes and `newsletter preview` reads, relative to the working directory. */
export const OUTBOX_DIR = 'outbox';

export interface OutboxEntry {
  /** Path inside the outbox with `/` separators, e.g. `demo-20240501-101112/0001-ann-example.org.eml`. */
  name: string;
  subject: string;
  to: string;
  date: string;
  bytes: number;
  modifiedMs: number;
}

/** A name the outbox routes accept: one optional folder and a file, plain characters only. */
const ENTRY_NAME = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)?[A-Za-z0-9_-][A-Za-z0-9._-]*\.eml$/;

// The header block of our messages is about 1 KB; a preview list needs no more than this.
const HEAD_BYTES = 16 * 1024;

async function readHead(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await file.read(buffer, 0, HEAD_BYTES, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const end = text.search(/\r?\n\r?\n/);
    return end >= 0 ? text.slice(0, end) : text;
  } finally {
    await file.close();
  }
}

async function emlFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isFile() && entry.name.endsWith('.eml')) found.push(entry.name);
    if (entry.isDirectory()) {
      for (const inner of await readdir(join(dir, entry.name)).catch(() => [] as string[])) {
        if (inner.endsWith('.eml') && !inner.startsWith('.')) found.push(`${entry.name}/${inner}`);
      }
    }
  }
  return found.filter((name) => ENTRY_NAME.test(name));
}

/** The newest `limit` messages (newest first) and how many there are in all. */
export async function listOutbox(dir: string, limit = 50): Promise<{ total: number; entries: OutboxEntry[] }> {
  const names = await emlFiles(dir);
  const stats = await Promise.all(names.map(async (name) => ({ name, info: await stat(join(dir, name)).catch(() => undefined) })));
  const newest = stats
    .filter((s) => s.info !== undefined)
    .sort((a, b) => b.info!.mtimeMs - a.info!.mtimeMs || b.name.localeCompare(a.name))
    .slice(0, limit);
  const entries = await Promise.all(
    newest.map(async ({ name, info }) => {
      const headers = parseHeaderLines(await readHead(join(dir, name)));
      return {
        name,
        subject: headerText(headers, 'subject'),
        to: headerText(headers, 'to'),
        date: headerText(headers, 'date'),
        bytes: info!.size,
        modifiedMs: info!.mtimeMs,
      };
    }),
  );
  return { total: stats.length, entries };
}

/** One captured message by its outbox name; undefined for a name outside the outbox or no such file. */
export async function readOutboxMessage(dir: string, name: string): Promise<(CapturedMessage & { bytes: number }) | undefined> {
  if (!ENTRY_NAME.test(name)) return undefined;
  const root = resolve(dir);
  const path = resolve(root, name);
  if (relative(root, path).startsWith('..') || !path.startsWith(root + sep)) return undefined;
  const raw = await readFile(path).catch(() => undefined);
  if (!raw) return undefined;
  return { ...parseCapturedMessage(raw.toString('utf8')), bytes: raw.length };
}
