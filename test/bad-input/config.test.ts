/**
 * Bad configuration through the real CLI: a missing secret, bad URLs, a broken
 * newsletter.yaml, several bad settings at once. Each is one `newsletter: <where>: <why>
 * [CONFIG_INVALID]` line, exit 1, and Redis exactly as before. Cases run `subscribers add`,
 * which would write if the configuration were accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, literal, openWorld, type World } from './harness.ts';

let world: World;
beforeAll(async () => {
  world = await openWorld('bad-config');
});
afterAll(() => world?.close());

const ADD = ['subscribers', 'add', 'new@example.com', '--list', 'weekly'];

interface BadSetting {
  name: string;
  env: Record<string, string | undefined>;
  line: RegExp;
  args?: string[];
}

const badEnv: BadSetting[] = [
  {
    name: 'REDIS_URL that is not a redis:// URL',
    env: { REDIS_URL: 'http://127.0.0.1:6379' },
    line: /^newsletter: REDIS_URL: a redis:\/\/, rediss:\/\/, redis\+sentinel:\/\/ or redis\+cluster:\/\/ URL, e\.g\. redis:\/\/127\.0\.0\.1:6379 \[/,
  },
  {
    name: 'REDIS_URL without a host',
    env: { REDIS_URL: 'redis://' },
    line: /^newsletter: REDIS_URL: a redis:\/\/, rediss:\/\/, redis\+sentinel:\/\/ or redis\+cluster:\/\/ URL/,
  },
  {
    name: 'REDIS_URL where nothing answers (the password stays out of the message)',
    env: { REDIS_URL: 'redis://:hunter2-password@127.0.0.1:1' },
    line: /^newsletter: REDIS_URL: cannot connect to Redis at redis:\/\/\*\*\*@127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1 \[/,
  },
  {
    name: 'SMTP_URL that is not an smtp:// URL',
    env: { SMTP_URL: 'ftp://mail.example.com' },
    line: /^newsletter: SMTP_URL: an smtp:\/\/ or smtps:\/\/ URL with a host, e\.g\. smtp:\/\/user:pass@mail\.example\.com:587 \[/,
  },
  { name: 'SMTP_URL without a host', env: { SMTP_URL: 'smtp://' }, line: /^newsletter: SMTP_URL: an smtp:\/\/ or smtps:\/\/ URL with a host/ },
  {
    name: 'SMTP_URL with a port that is not a number (the password stays out)',
    env: { SMTP_URL: 'smtp://user:s3cret-pass@mail.example.com:submission' },
    line: /^newsletter: SMTP_URL: an smtp:\/\/ or smtps:\/\/ URL with a host/,
  },
  { name: 'PUBLIC_URL that is not a URL', env: { PUBLIC_URL: 'news.example.com' }, line: /^newsletter: PUBLIC_URL: an http:\/\/ or https:\/\/ URL \[/ },
  { name: 'PUBLIC_URL with another scheme', env: { PUBLIC_URL: 'ftp://news.example.com' }, line: /^newsletter: PUBLIC_URL: an http:\/\/ or https:\/\/ URL \[/ },
  { name: 'NEWSLETTER_SECRET too short', env: { NEWSLETTER_SECRET: 'short' }, line: /^newsletter: NEWSLETTER_SECRET: at least 32 characters \[/ },
  {
    name: 'DKIM half configured',
    env: { DKIM_DOMAIN: 'example.com' },
    line: /^newsletter: DKIM_PRIVATE_KEY: DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY together \[/,
  },
  {
    name: 'several bad settings at once: one message names every one',
    env: { REDIS_URL: 'nope', SMTP_URL: 'nope', PUBLIC_URL: 'nope', SEND_ATTEMPTS: '0', NEWSLETTER_DEV_MODE: 'maybe', DKIM_SELECTOR: 'sel' },
    line: new RegExp(
      '^newsletter: ' +
        [
          'REDIS_URL: a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL, e.g. redis://127.0.0.1:6379',
          'SMTP_URL: an smtp:// or smtps:// URL with a host, e.g. smtp://user:pass@mail.example.com:587',
          'SEND_ATTEMPTS: Too small: expected number to be >=1',
          'NEWSLETTER_DEV_MODE: Invalid option: expected one of "0"|"1"|"true"|"false"',
          'PUBLIC_URL: an http:// or https:// URL',
          'DKIM_PRIVATE_KEY: DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY together',
        ]
          .map(literal)
          .join('; ') +
        ' \\[',
    ),
  },
];

describe('a bad setting in the environment: one located line, exit 1, nothing written', () => {
  it.each(badEnv)('$name', async ({ env, line, args = ADD }) => {
    const before = await world.snapshot();
    const result = await world.cli(args, env);
    expectCliError(result, 'CONFIG_INVALID', line);
    expect(result.stderr).not.toMatch(/hunter2|s3cret/);
    expect(await world.snapshot()).toEqual(before);
  });
});

describe('NEWSLETTER_SECRET missing outside dev mode: every command that signs links refuses to start', () => {
  const MISSING = /^newsletter: NEWSLETTER_SECRET: required to sign unsubscribe and confirmation links: set it to at least 32 random characters/;
  it.each([
    ['server', ['server', '--port', '0']],
    ['worker', ['worker']],
    ['send --test-to', ['send', 'emails/posts/sofa-weekly-2019-11-01.md', '--test-to', 'editor@example.com']],
  ])('%s', async (_name, args) => {
    const before = await world.snapshot();
    // SMTP_URL points nowhere: these commands must stop at the secret, before any SMTP or queue work.
    const result = await world.cli(args, { NEWSLETTER_SECRET: undefined, SMTP_URL: 'smtp://127.0.0.1:1' });
    expectCliError(result, 'CONFIG_INVALID', MISSING);
    expect(await world.snapshot()).toEqual(before);
  });

  it('an SMTP_URL where nothing answers: send --test-to says so (exit 1), and nothing is written', async () => {
    const before = await world.snapshot();
    const result = await world.cli(['send', 'emails/posts/sofa-weekly-2019-11-01.md', '--test-to', 'editor@example.com'], { SMTP_URL: 'smtp://127.0.0.1:1' });
    expectCliError(result, 'TEST_SEND_FAILED', /^newsletter: testTo: the SMTP server did not accept the test message: connect ECONNREFUSED 127\.0\.0\.1:1 \[/);
    expect(await world.snapshot()).toEqual(before);
  });

  it('commands that sign nothing still work without it (adding a subscriber)', async () => {
    const result = await world.cli(['subscribers', 'add', 'no-secret-needed@example.com'], { NEWSLETTER_SECRET: undefined });
    expect(result.code, result.stderr).toBe(0);
    expect(await world.store.getByEmail('no-secret-needed@example.com')).toMatchObject({ email: 'no-secret-needed@example.com' });
  });
});

const IDENTITY =
  'name: Bad Input Weekly\nfromAddress: weekly@example.com\nsiteUrl: https://example.com\npostalAddress: 1 Main St\nlistId: weekly.example.com\n';

const badIdentity: { name: string; yaml: string; after: RegExp }[] = [
  { name: 'broken YAML', yaml: 'name: Weekly\nfromAddress: [weekly@example.com\nsiteUrl: https://example.com\n', after: /^:\d: not valid YAML: / },
  { name: 'a list, not a map', yaml: '- name: Weekly\n- fromAddress: weekly@example.com\n', after: /^: Invalid input: expected object, received array \[/ },
  { name: 'an empty file', yaml: '', after: /^: the file is empty: it needs name, fromAddress, siteUrl, postalAddress and listId \[/ },
  { name: 'an invalid fromAddress', yaml: IDENTITY.replace('weekly@example.com', 'weekly-at-example.com'), after: /^: fromAddress: Invalid email address \[/ },
  {
    name: 'a siteUrl that is not http(s)',
    yaml: IDENTITY.replace('https://example.com', 'javascript:alert(1)'),
    after: /^: siteUrl: an http:\/\/ or https:\/\/ URL \[/,
  },
  {
    name: 'several required fields missing: every one named',
    yaml: 'name: Weekly\n',
    after: /^: fromAddress: Invalid input: expected string, received undefined; siteUrl: .*; postalAddress: .*; listId: .* \[/,
  },
];

describe('a bad newsletter.yaml: the file (and line or field), exit 1, nothing written', () => {
  it.each(badIdentity)('$name', async ({ name, yaml, after }) => {
    const file = world.scratch.write(`${name.replace(/\W+/g, '-')}.yaml`, yaml);
    const before = await world.snapshot();
    expectCliError(await world.cli(ADD, { NEWSLETTER_CONFIG: file }), 'CONFIG_INVALID', new RegExp(`^newsletter: ${literal(file)}${after.source.slice(1)}`));
    expect(await world.snapshot()).toEqual(before);
  });

  it('a file that is not there', async () => {
    const file = `${world.scratch.dir}/missing.yaml`;
    const before = await world.snapshot();
    expectCliError(
      await world.cli(ADD, { NEWSLETTER_CONFIG: file }),
      'CONFIG_INVALID',
      new RegExp(`^newsletter: ${literal(file)}: cannot read the newsletter config file \\[`),
    );
    expect(await world.snapshot()).toEqual(before);
  });
});
