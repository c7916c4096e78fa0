/** What several subcommands share: their config, opening and closing the app, parsing common flags, printing. */
import type { App } from '../app.ts';
import { loadConfig, type Config } from '../config.ts';
import { NewsletterError } from '../errors.ts';
import type { RenderWarning } from '../render/issue.ts';
import { parseFilter, type SubscriberFilter } from '../subscribers/subscriber.ts';
import type { CliIo, CliOutput } from './cli-io.ts';

/** The configuration from this run's environment and working directory, never the process's. */
export function cliConfig(io: CliIo): Config {
  return loadConfig({ env: io.env, cwd: io.cwd });
}

/**
 * Builds the app for one command and always closes it, so the process can exit.
 * Read-only commands pass quiet: the Redis durability warning matters where data is written.
 */
export async function withApp<T>(io: CliIo, run: (app: App) => Promise<T>, { quiet = false } = {}): Promise<T> {
  // Loaded here, not at the top: `newsletter render` uses these helpers without Redis or SMTP.
  const { createApp } = await import('../app.ts');
  const app = await createApp(cliConfig(io), { warn: quiet ? () => {} : (message) => io.stderr.write(`warning: ${message}\n`) });
  try {
    return await run(app);
  } finally {
    await app.close();
  }
}

/** --list and --status, checked before connecting anywhere; errors name the flag. */
export function filterFlags(flags: { list?: string; status?: string }): SubscriberFilter {
  return parseFilter(flags, { list: '--list', status: '--status' });
}

export function listFlag(value: string | undefined): string | undefined {
  return filterFlags({ list: value }).list;
}

export function writeLine(out: CliOutput, text: string): void {
  out.write(`${text}\n`);
}

export function portFlag(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) throw new NewsletterError('INPUT_INVALID', 'must be a port number from 0 to 65535', { field: '--port' });
  return port;
}

/** Render warnings as `file:line: warning: message [CODE]`, the shape editors' tools link to. */
export function printWarnings(out: CliOutput, file: string, warnings: readonly RenderWarning[]): void {
  for (const warning of warnings) {
    out.write(`${file}${warning.line ? `:${warning.line}` : ''}: warning: ${warning.message} [${warning.code}]\n`);
  }
}
