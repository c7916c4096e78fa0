import { createApp, type App } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { parseListName, parseStatus, type SubscriberStatus } from '../../subscribers/subscriber.ts';

/**
 * Builds the app for one command and always closes it, so the process can exit.
 * Read-only commands pass quiet: the Redis durability warning matters where data is written.
 */
export async function withApp<T>(run: (app: App) => Promise<T>, { quiet = false } = {}): Promise<T> {
  const app = await createApp(loadConfig(), quiet ? { warn: () => {} } : {});
  try {
    return await run(app);
  } finally {
    await app.close();
  }
}

export function listFlag(value: string | undefined): string | undefined {
  return value === undefined ? undefined : parseListName(value, { field: '--list' });
}

export function statusFlag(value: string | undefined): SubscriberStatus | undefined {
  return value === undefined ? undefined : parseStatus(value, { field: '--status' });
}

export function writeLine(text: string): void {
  process.stdout.write(`${text}\n`);
}
