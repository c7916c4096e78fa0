import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
let prefix: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  prefix = uniquePrefix('server-cli');
  ({ cleanup } = await connectTestRedis(prefix));
});
afterAll(async () => {
  await cleanup();
});

const baseEnv = () => {
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, NEWSLETTER_CONFIG: 'newsletter.yaml' };
  delete env.NEWSLETTER_SECRET;
  delete env.NEWSLETTER_DEV_MODE;
  delete env.SMTP_URL;
  return env;
};

describe('newsletter server', () => {
  it('refuses to start without NEWSLETTER_SECRET outside dev mode, with one clear line', async () => {
    const error = await promisify(execFile)('node', ['bin/newsletter.js', 'server', '--port', '0'], { cwd: root, env: baseEnv() }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((error as { code: number }).code).toBe(1);
    expect((error as { stderr: string }).stderr.trim()).toMatch(
      /^newsletter: NEWSLETTER_SECRET: required to sign unsubscribe and confirmation links.*\[CONFIG_INVALID\]$/,
    );
  });

  it('refuses a port that is not a number', async () => {
    const env = { ...baseEnv(), NEWSLETTER_DEV_MODE: '1' };
    const error = await promisify(execFile)('node', ['bin/newsletter.js', 'server', '--port', 'http'], { cwd: root, env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((error as { code: number }).code).toBe(1);
    expect((error as { stderr: string }).stderr.trim()).toBe('newsletter: --port: must be a port number from 0 to 65535 [INPUT_INVALID]');
  });

  it('starts in dev mode, answers /healthz, and stops cleanly on SIGTERM', async () => {
    const child = spawn('node', ['bin/newsletter.js', 'server', '--port', '0'], {
      cwd: root,
      env: { ...baseEnv(), NEWSLETTER_DEV_MODE: '1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const address = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    expect(out).toContain('PUBLIC secret');
    const health = await fetch(`${address}/healthz`);
    expect(await health.json()).toEqual({ ok: true });
    // No NEWSLETTER_ADMIN_TOKEN: no /metrics at all.
    expect((await fetch(`${address}/metrics`)).status).toBe(404);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
