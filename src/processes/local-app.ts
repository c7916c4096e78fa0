/**
 * The App of a command run on the editor's own machine (`newsletter demo`, the preview's
 * "Send a test"): the configured Redis when it answers. Its data is disposable or the
 * editor's own, so Redis's durability warnings are not shown (an evicting Redis is still refused).
 */
import { createApp, type App } from '../app.ts';
import type { Config } from '../config.ts';
import { isNewsletterError, NewsletterError } from '../errors.ts';

export async function openLocalApp(config: Config, _options: { say?: (line: string) => void } = {}): Promise<App> {
  try {
    return await createApp(config, { warn: () => {} });
  } catch (error) {
    if (!isNewsletterError(error) || error.location.field !== 'REDIS_URL') throw error;
    throw new NewsletterError('CONFIG_INVALID', `this needs Redis: ${error.message}; start redis-server, or set REDIS_URL`, {
      field: 'REDIS_URL',
      cause: error,
    });
  }
}
