/**
 * `newsletter doctor` against real parts: a DNS server (dnsmasq) with good and broken records, an
 * SMTP server with STARTTLS (a self-signed certificate made here) and AUTH or without them, a real
 * `newsletter server` on a free port, and private Redis servers set up well and badly. Each check
 * passes and fails when it should, with its fix; the exit code is 1 exactly when one fails; the
 * JSON parses; no secret reaches the output; the probes change nothing.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPrivateRedisServer, type PrivateRedisServer } from '../../src/redis/private-redis-server.ts';
import { startDnsServer, type DnsRecords, type TestDnsServer } from '../helpers/dns-server.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';
import { ProcessRegistry } from '../helpers/processes.ts';
import { uniquePrefix } from '../helpers/redis.ts';
import { runCli, type CliResult } from '../helpers/run-cli.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';

const SECRET = 'doctor-test-signing-secret-'.padEnd(48, 's');
const ADMIN_TOKEN = 'doctor-test-admin-token-'.padEnd(40, 'a');
const SMTP_USER = 'sender';
const SMTP_PASS = 'smtp-pa$$word:very/secret';

interface Check {
  id: string;
  area: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  message: string;
  fix: string;
}

function dkimKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { pem: String(privateKey.export({ type: 'pkcs8', format: 'pem' })), p: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
}

const dir = mkdtempSync(join(tmpdir(), 'doctor-test-'));
const key = dkimKey();
const otherKey = dkimKey();
const processes = new ProcessRegistry();
let dns: TestDnsServer;
let goodRedis: PrivateRedisServer;
let badRedis: PrivateRedisServer;
let relay: TestSmtpServer;
let tls: { cert: string; key: string };
let web: { url: string };
const prefix = uniquePrefix('doctor');

const GOOD_ZONE: DnsRecords = {
  txt: {
    'sender.test': ['v=spf1 include:_spf.sender.test -all', 'google-site-verification=abc123'],
    '_spf.sender.test': ['v=spf1 ip4:192.0.2.0/24 a:smtp.sender.test ~all'],
    'bounces.sender.test': ['v=spf1 redirect=sender.test'],
    'news2026._domainkey.sender.test': [`v=DKIM1; k=rsa; p=${key.p}`],
    '_dmarc.sender.test': ['v=DMARC1; p=quarantine; rua=mailto:dmarc@sender.test'],
  },
  mx: { 'bounces.sender.test': [['inbound.sender.test', 10]] },
  host: { 'smtp.sender.test': ['127.0.0.1'], 'inbound.sender.test': ['127.0.0.2'], 'web.sender.test': ['127.0.0.1'] },
};

const BROKEN_ZONE: DnsRecords = {
  txt: {
    // Two SPF records: a permerror for every receiver.
    'sender.test': ['v=spf1 ip4:192.0.2.1 -all', 'v=spf1 include:_spf.sender.test -all'],
    // One record, but not for the relay's address.
    'bounces.sender.test': ['v=spf1 ip4:192.0.2.1 -all'],
    // Another key than DKIM_PRIVATE_KEY's; no DMARC record; no MX for the bounce domain.
    'news2026._domainkey.sender.test': [`v=DKIM1; k=rsa; p=${otherKey.p}`],
  },
  host: { 'smtp.sender.test': ['127.0.0.1'], 'web.sender.test': ['127.0.0.1'] },
};

function smtpUrl(server: TestSmtpServer, pass = SMTP_PASS): string {
  return `smtp://${SMTP_USER}:${encodeURIComponent(pass)}@smtp.sender.test:${server.port}`;
}

function env(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NEWSLETTER_CONFIG: join(dir, 'newsletter.yaml'),
    REDIS_URL: goodRedis.url,
    REDIS_PREFIX: prefix,
    NEWSLETTER_SECRET: SECRET,
    NEWSLETTER_ADMIN_TOKEN: ADMIN_TOKEN,
    SMTP_URL: smtpUrl(relay),
    SMTP_TLS_ALLOW_SELF_SIGNED: 'true',
    DKIM_DOMAIN: 'sender.test',
    DKIM_SELECTOR: 'news2026',
    DKIM_PRIVATE_KEY: key.pem.replace(/\n/g, '\\n'),
    BOUNCE_DOMAIN: 'bounces.sender.test',
    PUBLIC_URL: web.url,
    DNS_SERVERS: dns.server,
    ...overrides,
  };
}

/** Runs doctor; checks what every run must hold (JSON, exit code, no secret) and returns the checks by id. */
async function doctor(overrides: Record<string, string | undefined> = {}): Promise<{ result: CliResult; checks: Map<string, Check> }> {
  const result = await runCli(['doctor', '--json'], { env: env(overrides) });
  const parsed = JSON.parse(result.stdout) as { checks: Check[] };
  const checks = new Map(parsed.checks.map((check) => [check.id, check]));
  expect(checks.size).toBe(parsed.checks.length);
  for (const check of parsed.checks) {
    expect(['pass', 'warn', 'fail', 'skip']).toContain(check.status);
    if (check.status === 'fail' || check.status === 'warn') expect(check.fix, check.id).not.toBe('');
  }
  expect(result.code).toBe(parsed.checks.some((check) => check.status === 'fail') ? 1 : 0);
  const output = result.stdout + result.stderr;
  const keyBody = key.pem.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
  for (const secret of [SMTP_PASS, encodeURIComponent(SMTP_PASS), SECRET, ADMIN_TOKEN, ...keyBody]) expect(output).not.toContain(secret);
  return { result, checks };
}

function statuses(checks: Map<string, Check>): Record<string, string> {
  return Object.fromEntries([...checks].map(([id, check]) => [id, check.status]));
}

beforeAll(async () => {
  writeFileSync(
    join(dir, 'newsletter.yaml'),
    'name: Sender Weekly\nfromAddress: news@sender.test\nsiteUrl: https://sender.test\npostalAddress: 1 Test Street, Testville\nlistId: weekly.sender.test\n',
  );
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=smtp.sender.test',
      '-addext',
      'subjectAltName=DNS:smtp.sender.test,IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  tls = { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  [dns, goodRedis, badRedis, relay] = await Promise.all([
    startDnsServer(GOOD_ZONE),
    startPrivateRedisServer({ appendfsync: 'everysec', args: ['--maxmemory', '256mb'] }),
    startPrivateRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] }),
    startTestSmtpServer({ tls, auth: { user: SMTP_USER, pass: SMTP_PASS } }),
  ]);
  const server = await processes.server({
    NEWSLETTER_CONFIG: join(dir, 'newsletter.yaml'),
    REDIS_URL: goodRedis.url,
    REDIS_PREFIX: prefix,
    NEWSLETTER_SECRET: SECRET,
    // Flushed at once: an unsubscribe the probe counted would show in Redis.
    METRICS_FLUSH_MS: '100',
  });
  // By name, through the test's DNS like every other name doctor reaches.
  web = { url: server.url.replace('127.0.0.1', 'web.sender.test') };
  for (const email of ['ann@example.org', 'bob@example.org', 'cy@example.org']) {
    expect((await runCli(['subscribers', 'add', email, '--list', 'weekly'], { env: env() })).code).toBe(0);
  }
}, 60_000);

afterAll(async () => {
  await processes.killAll();
  await Promise.all([dns?.stop(), goodRedis?.stop(), badRedis?.stop(), relay?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('newsletter doctor', () => {
  it('passes a sound set-up: every check passes, or warns only about what a test set-up cannot have; exit 0; the probes change nothing', async () => {
    const redis = new Redis(goodRedis.url);
    const before = await dumpKeys(redis, prefix);
    const { result, checks } = await doctor();
    expect(await dumpKeys(redis, prefix)).toEqual(before);
    redis.disconnect();
    expect(result.code).toBe(0);
    expect(statuses(checks)).toEqual({
      'dns.spf': 'pass',
      'dns.spf-bounce': 'pass',
      'dns.dkim': 'pass',
      'dns.dmarc': 'pass',
      'dns.dmarc-alignment': 'pass',
      'dns.bounce-mx': 'pass',
      // http: a test server has no certificate.
      'http.public-url': 'warn',
      'http.healthz': 'pass',
      'http.one-click': 'pass',
      'http.list-unsubscribe': 'warn',
      'smtp.connect': 'pass',
      'smtp.starttls': 'pass',
      // Self-signed, allowed by SMTP_TLS_ALLOW_SELF_SIGNED.
      'smtp.certificate': 'warn',
      'smtp.auth': 'pass',
      'smtp.envelope': 'pass',
      'redis.persistence': 'pass',
      'redis.eviction': 'pass',
      'redis.memory': 'pass',
      'mail.size': 'pass',
      'mail.text-part': 'pass',
    });
    expect(checks.get('dns.spf')!.message).toContain('authorizes the relay smtp.sender.test (127.0.0.1)');
    expect(checks.get('http.public-url')!.message).toMatch(/it is http: .*[^;]$/);
    expect(checks.get('redis.memory')!.message).toContain('3 subscriber(s)');
    // The envelope was tried, and nothing was sent.
    expect(relay.rcptAttempts.get('postmaster@sender.test')).toBeGreaterThan(0);
    expect(relay.messages).toHaveLength(0);
  });

  it('fails broken DNS, naming each fix: two SPF records, SPF without the relay, a DKIM key that does not match, no DMARC, no bounce MX', async () => {
    await dns.replace(BROKEN_ZONE);
    try {
      const { result, checks } = await doctor({ DNS_SERVERS: dns.server });
      expect(result.code).toBe(1);
      expect(checks.get('dns.spf')).toMatchObject({
        status: 'fail',
        message: expect.stringContaining('2 SPF records'),
        fix: expect.stringContaining('merge them into one'),
      });
      expect(checks.get('dns.spf-bounce')).toMatchObject({ status: 'fail', fix: expect.stringContaining('"ip4:127.0.0.1"') });
      expect(checks.get('dns.dkim')).toMatchObject({
        status: 'fail',
        message: expect.stringContaining('another key'),
        fix: expect.stringContaining(`p=${key.p}`),
      });
      expect(checks.get('dns.dmarc')).toMatchObject({ status: 'fail', fix: expect.stringContaining('_dmarc.sender.test TXT "v=DMARC1; p=none') });
      expect(checks.get('dns.bounce-mx')).toMatchObject({ status: 'fail', fix: expect.stringContaining('bounces.sender.test MX 10') });
      // The text report says the same, a fix under each failure.
      const text = await runCli(['doctor'], { env: env({ DNS_SERVERS: dns.server }) });
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^FAIL {2}dns\.dkim .*\n {10,}fix: publish news2026\._domainkey\.sender\.test TXT/m);
      expect(text.stdout).toMatch(/failed, .* warning\(s\), .* passed, .* skipped: fix what FAILs before the first send\n$/);
    } finally {
      await dns.replace(GOOD_ZONE);
    }
  });

  it('skips what is not configured, and says why: no DKIM key, no bounce domain', async () => {
    const { checks } = await doctor({ DKIM_DOMAIN: undefined, DKIM_SELECTOR: undefined, DKIM_PRIVATE_KEY: undefined, BOUNCE_DOMAIN: undefined });
    expect(checks.get('dns.dkim')).toMatchObject({ status: 'skip', message: expect.stringContaining('no DKIM key configured') });
    expect(checks.get('dns.bounce-mx')).toMatchObject({ status: 'skip', message: expect.stringContaining('BOUNCE_DOMAIN is not set') });
    expect(checks.get('dns.spf-bounce')!.status).toBe('skip');
    // Without DKIM the return path (From's own domain) still aligns.
    expect(checks.get('dns.dmarc-alignment')!.status).toBe('pass');
  });

  it('fails DMARC alignment when neither the DKIM domain nor the return path is under the From domain', async () => {
    await dns.replace({
      ...GOOD_ZONE,
      txt: { ...GOOD_ZONE.txt, 'news2026._domainkey.relay.test': [`v=DKIM1; k=rsa; p=${key.p}`], 'bounces.relay.test': ['v=spf1 a:smtp.sender.test -all'] },
      mx: { 'bounces.relay.test': [['inbound.sender.test', 10]] },
    });
    try {
      const { checks } = await doctor({ DNS_SERVERS: dns.server, DKIM_DOMAIN: 'relay.test', BOUNCE_DOMAIN: 'bounces.relay.test' });
      expect(checks.get('dns.dkim')!.status).toBe('pass');
      expect(checks.get('dns.dmarc-alignment')).toMatchObject({ status: 'fail', fix: expect.stringContaining('set DKIM_DOMAIN to sender.test') });
    } finally {
      await dns.replace(GOOD_ZONE);
    }
  });

  it('fails a relay that offers no STARTTLS, a self-signed certificate not allowed, and wrong credentials', async () => {
    const plain = await startTestSmtpServer({ auth: { user: SMTP_USER, pass: SMTP_PASS } });
    try {
      const { checks } = await doctor({ SMTP_URL: smtpUrl(plain) });
      expect(checks.get('smtp.starttls')).toMatchObject({ status: 'fail', fix: expect.stringContaining('587') });
      expect(checks.get('smtp.certificate')!.status).toBe('skip');
    } finally {
      await plain.close();
    }
    const strict = await doctor({ SMTP_TLS_ALLOW_SELF_SIGNED: undefined });
    expect(strict.checks.get('smtp.certificate')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('SELF_SIGNED'),
      fix: expect.stringContaining('SMTP_TLS_ALLOW_SELF_SIGNED=true'),
    });
    expect(strict.result.code).toBe(1);
    const wrong = await doctor({ SMTP_URL: smtpUrl(relay, 'not-the-password') });
    expect(wrong.checks.get('smtp.auth')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('535'),
      fix: expect.stringContaining('password in SMTP_URL'),
    });
    expect(wrong.checks.get('smtp.envelope')!.status).toBe('skip');
  });

  it('passes a relay that speaks TLS from the first byte (smtps://), its certificate judged the same way', async () => {
    const smtps = await startTestSmtpServer({ tls, secure: true, auth: { user: SMTP_USER, pass: SMTP_PASS } });
    try {
      const url = `smtps://${SMTP_USER}:${encodeURIComponent(SMTP_PASS)}@smtp.sender.test:${smtps.port}`;
      const { checks } = await doctor({ SMTP_URL: url });
      expect(statuses(checks)).toMatchObject({
        'smtp.connect': 'pass',
        'smtp.starttls': 'pass',
        'smtp.certificate': 'warn',
        'smtp.auth': 'pass',
        'smtp.envelope': 'pass',
      });
      expect(checks.get('smtp.starttls')!.message).toContain('smtps://');
      const strict = await doctor({ SMTP_URL: url, SMTP_TLS_ALLOW_SELF_SIGNED: undefined });
      expect(strict.checks.get('smtp.certificate')!.status).toBe('fail');
      expect(smtps.messages).toHaveLength(0);
    } finally {
      await smtps.close();
    }
  });

  it('fails a relay that refuses the test envelope, and one that does not answer', async () => {
    const refusing = await startTestSmtpServer({
      tls,
      auth: { user: SMTP_USER, pass: SMTP_PASS },
      onRcpt: () => ({ code: 550, message: '5.7.1 Relaying denied' }),
    });
    try {
      const { checks } = await doctor({ SMTP_URL: smtpUrl(refusing) });
      expect(checks.get('smtp.envelope')).toMatchObject({ status: 'fail', message: expect.stringContaining('550 5.7.1 Relaying denied') });
      expect(refusing.messages).toHaveLength(0);
    } finally {
      await refusing.close();
    }
    const closed = `smtp://127.0.0.1:${relay.port}`;
    await relay.close();
    try {
      const { checks } = await doctor({ SMTP_URL: closed });
      expect(checks.get('smtp.connect')).toMatchObject({ status: 'fail', message: expect.stringContaining('ECONNREFUSED') });
      expect(checks.get('smtp.envelope')!.status).toBe('skip');
    } finally {
      relay = await startTestSmtpServer({ tls, auth: { user: SMTP_USER, pass: SMTP_PASS }, port: relay.port });
    }
  });

  it('fails PUBLIC_URL unset, a web server that signs with another secret, and a PUBLIC_URL where nothing answers', async () => {
    const unset = await doctor({ PUBLIC_URL: undefined });
    expect(unset.checks.get('http.public-url')).toMatchObject({ status: 'fail', message: expect.stringContaining('PUBLIC_URL is not set') });
    const otherSecret = await doctor({ NEWSLETTER_SECRET: 'another-secret-the-server-never-had-'.padEnd(48, 'x') });
    expect(otherSecret.checks.get('http.one-click')).toMatchObject({ status: 'fail', fix: expect.stringContaining('same NEWSLETTER_SECRET') });
    const nobody = await doctor({ PUBLIC_URL: `http://127.0.0.1:${await freePort()}` });
    expect(nobody.checks.get('http.healthz')).toMatchObject({ status: 'fail', fix: expect.stringContaining('start newsletter server') });
    const noSecret = await doctor({ NEWSLETTER_SECRET: undefined });
    expect(noSecret.checks.get('http.one-click')!.status).toBe('skip');
  });

  it('fails a Redis that keeps nothing on disk and evicts; and one that does not answer', async () => {
    const { checks } = await doctor({ REDIS_URL: badRedis.url });
    expect(checks.get('redis.persistence')).toMatchObject({ status: 'fail', fix: expect.stringContaining('appendonly yes') });
    expect(checks.get('redis.eviction')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('allkeys-lru'),
      fix: expect.stringContaining('noeviction'),
    });
    const away = await doctor({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(away.checks.get('redis.connect')!.status).toBe('fail');
    expect(away.checks.get('redis.memory')!.status).toBe('skip');
  });

  it('fails a post whose HTML Gmail would clip', async () => {
    const posts = join(dir, 'posts');
    mkdirSync(posts, { recursive: true });
    const paragraph = `${'A sentence long enough to weigh something in the email. '.repeat(20)}\n\n`;
    writeFileSync(join(posts, 'huge.md'), `---\ntitle: A very long issue\ndate: 2024-05-03\n---\n\n${paragraph.repeat(120)}`);
    const { checks } = await doctor({ POSTS_DIR: posts });
    expect(checks.get('mail.size')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('Gmail clips'),
      fix: expect.stringContaining('shorten the post'),
    });
    expect(checks.get('mail.text-part')!.status).toBe('pass');
  });
});
