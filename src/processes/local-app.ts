/**
 * The App of a command run on the editor's own machine (`newsletter demo`, the preview's
 * "Send a test"): the configured Redis when it answers; otherwise, when redis-server is
 * installed, a private one started for the run (and stopped with the App), so the first
 * Quick-start command works on a fresh laptop. Its data is disposable or the editor's own,
 * so Redis's durability warnings are not shown (an evicting Redis is still refused).
 */
import { createApp, type App } from '../app.ts';
import type { Config } from '../config.ts';
import { isNewsletterError, NewsletterError } from '../errors.ts';
import { parseRedisTopology } from '../redis/redis-topology.ts';
import { startPrivateRedisServer } from '../redis/private-redis-server.ts';

export interface LocalAppOptions {
  /** Where to say that a private Redis was started. */
  say?: (line: string) => void;
  /** Where to look for redis-server (default this process's PATH). */
  path?: string;
}

/** The App on the configured Redis or, when none answers, on a private redis-server for this run. */
export async function openLocalApp(config: Config, { say = () => {}, path }: LocalAppOptions = {}): Promise<App> {
  try {
    return await createApp(config, { warn: () => {} });
  } catch (error) {
    if (!isNewsletterError(error) || error.location.field !== 'REDIS_URL') throw error;
    const down = error;
    const redis = await startPrivateRedisServer({ path }).catch((cause: unknown) => {
      throw new NewsletterError(
        'CONFIG_INVALID',
        `this needs Redis: ${down.message}, and no private redis-server could be started (${(cause as Error).message.split('\n')[0]}): ` +
          'install Redis (apt-get install redis-server, or brew install redis) or run `docker compose up redis`; or start redis-server, or set REDIS_URL',
        { field: 'REDIS_URL', cause: down },
      );
    });
    say(`no Redis answers at REDIS_URL: started a private redis-server at ${redis.url} for this run (its data goes when the run ends)`);
    try {
      const topology = parseRedisTopology({ url: redis.url });
      const app = await createApp({ ...config, redis: { ...config.redis, url: redis.url, topology } }, { warn: () => {} });
      // The server goes after every client of the App has closed.
      return {
        ...app,
        async close() {
          await app.close();
          await redis.stop();
        },
      };
    } catch (cause) {
      await redis.stop();
      throw cause;
    }
  }
}
