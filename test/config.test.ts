import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { isNewsletterError, type NewsletterError } from '../src/errors.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));

function configError(env: NodeJS.ProcessEnv, cwd = repo): NewsletterError {
  try {
    loadConfig({ env, cwd });
  } catch (error) {
    if (isNewsletterError(error, 'CONFIG_INVALID')) return error;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

const folders: string[] = [];
afterAll(() => folders.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A folder holding only a newsletter.yaml with this content; removed after the file's tests. */
function folderWithIdentity(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'newsletter-config-'));
  folders.push(dir);
  writeFileSync(join(dir, 'newsletter.yaml'), yaml);
  return dir;
}

describe('loadConfig', () => {
  it("reads receiving domains' caps: defaults for the large providers, then newsletter.yaml's domains, then the environment", () => {
    const identity = [
      'name: N',
      'fromAddress: n@example.org',
      'siteUrl: https://example.org',
      'postalAddress: 1 Road',
      'listId: n.example.org',
      'domains:',
      '  google: { perSecond: 40 }',
      '  example.com: { perSecond: 2, connections: 1 }',
    ].join('\n');
    const cwd = folderWithIdentity(identity);
    const config = loadConfig({
      cwd,
      env: { DOMAIN_RATES: 'yahoo=3,example.net=0.5', DOMAIN_CONNECTIONS: 'google=20', DOMAIN_PAUSE_MS: '5000', DOMAIN_PAUSE_MAX_MS: '1000' },
    });
    expect(config.sending.domains).toEqual({
      pauseMs: 5_000,
      maxPauseMs: 5_000,
      rampStepMs: 60_000,
      mxTimeoutMs: 1_500,
      caps: {
        google: { perSecond: 40, connections: 20 },
        microsoft: { perSecond: 5, connections: 5 },
        yahoo: { perSecond: 3, connections: 5 },
        apple: { perSecond: 5, connections: 5 },
        'example.com': { perSecond: 2, connections: 1 },
        'example.net': { perSecond: 0.5, connections: 0 },
      },
    });
    expect(config.identity).not.toHaveProperty('domains');
    expect(configError({ DOMAIN_RATES: 'google:10' }).location.field).toBe('DOMAIN_RATES');
    expect(configError({}, folderWithIdentity(`${identity}\n  Bad_Name: { perSecond: 1 }`))).toMatchObject({
      message: expect.stringMatching(/lower case/),
      location: { field: 'domains.Bad_Name' },
    });
  });

  it('reads the identity from newsletter.yaml and infrastructure from the environment, frozen', () => {
    const config = loadConfig({ cwd: repo, env: { SMTP_URL: 'smtp://u:p@mail.example:587', REDIS_PREFIX: 'nl' } });
    expect(config.identity.name).toBe('SOFA Weekly');
    expect(config.identity.siteUrl).toBe('https://www.sofastack.tech');
    expect(config.smtp.url).toBe('smtp://u:p@mail.example:587');
    expect(config.redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      prefix: 'nl',
      topology: { kind: 'single', url: 'redis://127.0.0.1:6379', username: undefined, password: undefined, tls: false },
      wait: { replicas: 1, timeoutMs: 1_000 },
    });
    expect(Object.isFrozen(config.identity)).toBe(true);
    expect(() => {
      (config.redis as { prefix: string }).prefix = 'x';
    }).toThrow();
  });

  it('takes an empty setting (`SMTP_URL=` in .env, as docker compose passes it) as unset', () => {
    const config = loadConfig({ cwd: repo, env: { SMTP_URL: '', NEWSLETTER_SECRET: '', NEWSLETTER_ADMIN_TOKEN: '', REDIS_PREFIX: '', PORT: '' } });
    expect(config.smtp.url).toBeUndefined();
    expect(config.secrets.current).toBeUndefined();
    expect(config.admin.token).toBeUndefined();
    expect(config.redis.prefix).toBe('newsletter');
    expect(config.http.port).toBe(3000);
  });

  it('names the setting that is wrong', () => {
    expect(configError({ SMTP_URL: 'http://mail.example' }).location.field).toBe('SMTP_URL');
    expect(configError({ NEWSLETTER_SECRET: 'short' }).location.field).toBe('NEWSLETTER_SECRET');
    expect(configError({ DKIM_DOMAIN: 'example.org' }).location.field).toBe('DKIM_PRIVATE_KEY');
  });

  it('names the identity file and field that is wrong', () => {
    const dir = folderWithIdentity('name: X\nfromAddress: not-an-address\nsiteUrl: https://x.example\npostalAddress: Somewhere\nlistId: x.example\n');
    const error = configError({}, dir);
    expect(error.location.file).toBe(join(dir, 'newsletter.yaml'));
    expect(error.location.field).toBe('fromAddress');
  });

  it('gives the line of malformed YAML in the identity file', () => {
    const dir = folderWithIdentity('name: X\n  fromAddress: x@example.com\nsiteUrl: https://x.example\n');
    expect(configError({}, dir).location).toMatchObject({ file: join(dir, 'newsletter.yaml'), line: 2 });
  });
});
