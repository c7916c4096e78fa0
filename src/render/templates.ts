/** Reads the MJML layout, its partials and the text layout from the emails/ folder. */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NewsletterError } from '../errors.ts';

export interface Templates {
  /** The emails/ folder they came from, for messages. */
  dir: string;
  mjml: string;
  text: string;
  partials: Record<string, string>;
}

/** emails/ at the repository root, wherever the command is run from. */
export const DEFAULT_EMAILS_DIR = fileURLToPath(new URL('../../emails/', import.meta.url));

/** A missing or unreadable layout is RENDER_FAILED naming the file, like any other render problem. */
function read<T>(path: string, readIt: (path: string) => T): T {
  try {
    return readIt(path);
  } catch (cause) {
    throw new NewsletterError('RENDER_FAILED', `cannot read the email template: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, {
      file: path,
      cause,
    });
  }
}

const readText = (path: string) => read(path, (p) => readFileSync(p, 'utf8'));

export function loadTemplates(emailsDir: string = DEFAULT_EMAILS_DIR): Templates {
  const partialsDir = join(emailsDir, 'partials');
  const partials: Record<string, string> = {};
  for (const name of read(partialsDir, (p) => readdirSync(p))) {
    if (name.endsWith('.mjml')) partials[basename(name, '.mjml')] = readText(join(partialsDir, name));
  }
  return {
    dir: emailsDir,
    mjml: readText(join(emailsDir, 'layouts', 'issue.mjml')),
    text: readText(join(emailsDir, 'layouts', 'issue.txt')),
    partials,
  };
}
