/** Reads the MJML layout, its partials and the text layout from the emails/ folder. */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Templates {
  /** The emails/ folder they came from, for messages. */
  dir: string;
  mjml: string;
  text: string;
  partials: Record<string, string>;
}

/** emails/ at the repository root, wherever the command is run from. */
export const DEFAULT_EMAILS_DIR = fileURLToPath(new URL('../../emails/', import.meta.url));

export function loadTemplates(emailsDir: string = DEFAULT_EMAILS_DIR): Templates {
  const partialsDir = join(emailsDir, 'partials');
  const partials: Record<string, string> = {};
  for (const name of readdirSync(partialsDir)) {
    if (name.endsWith('.mjml')) partials[basename(name, '.mjml')] = readFileSync(join(partialsDir, name), 'utf8');
  }
  return {
    dir: emailsDir,
    mjml: readFileSync(join(emailsDir, 'layouts', 'issue.mjml'), 'utf8'),
    text: readFileSync(join(emailsDir, 'layouts', 'issue.txt'), 'utf8'),
    partials,
  };
}
