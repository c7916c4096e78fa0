import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesPerTest } from '../helpers/processes.ts';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { runCli } from '../helpers/run-cli.ts';

const processes = processesPerTest();
let prefix: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  prefix = uniquePrefix('server-cli');
  ({ cleanup } = await connectTestRedis(prefix));
});
afterAll(async () => {
  await cleanup();
});

/** No NEWSLETTER_SECRET, no dev mode, no SMTP_URL. */
const baseEnv = () => ({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, NEWSLETTER_CONFIG: 'newsletter.yaml' });

describe('newsletter server', () => {
  it('refuses to start without NEWSLETTER_SECRET outside dev mode, with one clear line', async () => {
    const run = await runCli(['server', '--port', '0'], { env: baseEnv() });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^newsletter: NEWSLETTER_SECRET: required to sign unsubscribe and confirmation links.*\[CONFIG_INVALID\]$/);
  });

  it('refuses a port that is not a number', async () => {
    const run = await runCli(['server', '--port', 'http'], { env: { ...baseEnv(), NEWSLETTER_DEV_MODE: '1' } });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('newsletter: --port: must be a port number from 0 to 65535 [INPUT_INVALID]');
  });

  it('starts in dev mode, answers /healthz, and stops cleanly on SIGTERM', async () => {
    const { spawned, url } = await processes.server({ ...baseEnv(), NEWSLETTER_DEV_MODE: '1' });
    expect(spawned.output()).toContain('PUBLIC secret');
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ ok: true });
    // No NEWSLETTER_ADMIN_TOKEN: no /metrics at all.
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    expect(await spawned.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
