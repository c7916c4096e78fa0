/** The pure verdicts, from facts given as an adapter would gather them: where each line between pass, warn and fail lies. */
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { exitCodeOf, type CheckResult } from '../../src/doctor/check.ts';
import { publicKeyOf, tagList } from '../../src/doctor/dkim-key.ts';
import { aligned, organizationalDomain, parseDmarc } from '../../src/doctor/dmarc.ts';
import { checkOneClick, checkPublicUrl } from '../../src/doctor/http-checks.ts';
import { inCidr, isLoopback } from '../../src/doctor/ip-match.ts';
import { checkClip, checkListUnsubscribe, checkTextPart, GMAIL_CLIP_BYTES } from '../../src/doctor/mail-checks.ts';
import { checkRedis, type RedisFacts } from '../../src/doctor/redis-checks.ts';
import { formatText, redact } from '../../src/doctor/report.ts';
import { checkSmtp, type SmtpFacts } from '../../src/doctor/smtp-checks.ts';

const MiB = 1024 * 1024;
const redis = (facts: Partial<RedisFacts>): RedisFacts => ({
  maxmemoryPolicy: 'noeviction',
  aof: true,
  rdb: false,
  usedMemory: 10 * MiB,
  maxmemory: 100 * MiB,
  systemMemory: 1024 * MiB,
  subscribers: 1000,
  largestList: { name: 'weekly', size: 1000 },
  ...facts,
});
const memory = (facts: Partial<RedisFacts>) => checkRedis(redis(facts)).find((check) => check.id === 'redis.memory')!;

describe('redis.memory', () => {
  it('passes with more than 20 % of maxmemory free', () => expect(memory({}).status).toBe('pass'));
  it('warns under 20 % free', () => expect(memory({ usedMemory: 85 * MiB })).toMatchObject({ status: 'warn', message: expect.stringContaining('under 20 %') }));
  it('fails when what is free cannot hold a campaign to the largest list (~100 bytes a recipient)', () => {
    expect(memory({ usedMemory: 100 * MiB - 50_000, largestList: { name: 'weekly', size: 1_000_000 } })).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('largest list'),
    });
  });
  it('fails when Redis is full', () => expect(memory({ usedMemory: 100 * MiB }).status).toBe('fail'));
  it('warns when maxmemory is 0, judged against the machine: Redis would be killed rather than refuse writes', () => {
    expect(memory({ maxmemory: 0 })).toMatchObject({ status: 'warn', message: expect.stringContaining("the machine's memory") });
  });
  it('says the ~250 bytes a subscriber estimate', () => expect(memory({}).message).toContain('1000 subscriber(s) (about 244 KiB at ~250 bytes each)'));
});

describe('redis.persistence and redis.eviction', () => {
  const byId = (facts: Partial<RedisFacts>) => Object.fromEntries(checkRedis(redis(facts)).map((check) => [check.id, check.status]));
  it('RDB alone passes; nothing on disk fails; unknown (CONFIG refused) warns', () => {
    expect(byId({ aof: false, rdb: true })['redis.persistence']).toBe('pass');
    expect(byId({ aof: false, rdb: false })['redis.persistence']).toBe('fail');
    expect(byId({ aof: false, rdb: undefined })['redis.persistence']).toBe('warn');
  });
  it('an evicting policy fails; an unreadable one warns', () => {
    expect(byId({ maxmemoryPolicy: 'volatile-lru' })['redis.eviction']).toBe('fail');
    expect(byId({ maxmemoryPolicy: undefined })['redis.eviction']).toBe('warn');
  });
});

describe('smtp', () => {
  const base: SmtpFacts = {
    target: 'localhost:25',
    implicitTls: false,
    local: true,
    hasCredentials: false,
    allowSelfSigned: false,
    connect: { ok: true, greeting: { code: 220, text: 'ready' } },
    starttlsOffered: false,
    authOffered: [],
    mailFrom: { address: 'news@sender.test', reply: { code: 250, text: 'ok' } },
    rcptTo: { address: 'postmaster@sender.test', reply: { code: 250, text: 'ok' } },
  };
  const byId = (facts: Partial<SmtpFacts>) => Object.fromEntries(checkSmtp({ ...base, ...facts }).map((check) => [check.id, check.status]));
  it('a relay on this machine needs no STARTTLS; a remote one does', () => {
    expect(byId({})['smtp.starttls']).toBe('pass');
    expect(byId({ local: false, target: 'smtp.example.com:25' })['smtp.starttls']).toBe('fail');
  });
  it('credentials with no AUTH offered fail; a 530 at MAIL FROM says to log in', () => {
    expect(byId({ hasCredentials: true })['smtp.auth']).toBe('fail');
    const refused = checkSmtp({
      ...base,
      mailFrom: { address: 'news@sender.test', reply: { code: 530, text: '5.7.0 Authentication required' } },
      rcptTo: undefined,
    });
    expect(refused.find((check) => check.id === 'smtp.envelope')).toMatchObject({ status: 'fail', fix: expect.stringContaining('user:password in SMTP_URL') });
  });
  it('SMTP_URL unset fails smtp.connect and skips the rest', () => {
    expect(checkSmtp(undefined).map((check) => check.status)).toEqual(['fail', 'skip', 'skip', 'skip', 'skip']);
  });
});

describe('http', () => {
  it('PUBLIC_URL: unset fails, http or this machine warns, https elsewhere passes', () => {
    expect(checkPublicUrl({ publicUrl: 'http://localhost:3000', publicUrlSet: false }).status).toBe('fail');
    expect(checkPublicUrl({ publicUrl: 'http://news.example.com', publicUrlSet: true }).status).toBe('warn');
    expect(checkPublicUrl({ publicUrl: 'https://127.0.0.1:8443', publicUrlSet: true }).status).toBe('warn');
    expect(checkPublicUrl({ publicUrl: 'https://news.example.com', publicUrlSet: true }).status).toBe('pass');
  });
  it('a one-click POST answered with a redirect fails: providers do not follow it', () => {
    const answer = { status: 302, location: 'https://news.example.com/login', body: '' };
    expect(checkOneClick('https://news.example.com', answer)).toMatchObject({ status: 'fail', message: expect.stringContaining('redirect') });
  });
});

describe('http.list-unsubscribe', () => {
  const facts = (listUnsubscribe: string, listUnsubscribePost = 'List-Unsubscribe=One-Click') => ({ post: 'p.md', listUnsubscribe, listUnsubscribePost });
  const base = 'https://news.example.com';
  it('passes an https URI and a mailto in angle brackets with the One-Click Post header', () => {
    expect(checkListUnsubscribe(facts(`<${base}/unsubscribe/t>, <mailto:u@example.com?subject=x>`), base).status).toBe('pass');
  });
  it.each([
    ['no angle brackets', `${base}/unsubscribe/t, <mailto:u@example.com>`],
    ['no mailto', `<${base}/unsubscribe/t>`],
    ['no web URI', '<mailto:u@example.com>'],
  ])('fails %s', (_name, value) => expect(checkListUnsubscribe(facts(value), base).status).toBe('fail'));
  it('fails without List-Unsubscribe-Post: One-Click', () => {
    expect(checkListUnsubscribe(facts(`<${base}/unsubscribe/t>, <mailto:u@example.com>`, ''), base).status).toBe('fail');
  });
});

describe('mail.size', () => {
  it('passes under 90 % of the clip, warns above, fails at it', () => {
    expect(checkClip({ post: 'p.md', htmlBytes: GMAIL_CLIP_BYTES * 0.5 }).status).toBe('pass');
    expect(checkClip({ post: 'p.md', htmlBytes: GMAIL_CLIP_BYTES * 0.95 }).status).toBe('warn');
    expect(checkClip({ post: 'p.md', htmlBytes: GMAIL_CLIP_BYTES }).status).toBe('fail');
  });
});

describe('the DKIM key', () => {
  it('derives what p= must hold: the SPKI DER for rsa, the raw 32 bytes for ed25519 (RFC 8463)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(publicKeyOf(String(rsa.privateKey.export({ type: 'pkcs1', format: 'pem' })))).toEqual({
      type: 'rsa',
      p: rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    });
    const ed = generateKeyPairSync('ed25519');
    const derived = publicKeyOf(String(ed.privateKey.export({ type: 'pkcs8', format: 'pem' })))!;
    expect(derived.type).toBe('ed25519');
    expect(Buffer.from(derived.p, 'base64')).toEqual(ed.publicKey.export({ type: 'spki', format: 'der' }).subarray(12));
    expect(publicKeyOf('not a key')).toBeUndefined();
  });
  it('reads tags with spaces around them', () => {
    expect(tagList(' v=DKIM1 ; k = rsa; p=AB CD ').get('k')).toBe('rsa');
  });
});

describe('mail.text-part', () => {
  it('fails without a text part, or with an empty one', () => {
    expect(checkTextPart({ post: 'p.md', textLength: undefined }).status).toBe('fail');
    expect(checkTextPart({ post: 'p.md', textLength: 0 })).toMatchObject({ status: 'fail', fix: expect.stringContaining('give the post some text') });
    expect(checkTextPart({ post: 'p.md', textLength: 10 }).status).toBe('pass');
  });
});

describe('DMARC and addresses', () => {
  it('relaxed alignment compares organizational domains; strict the domain itself', () => {
    expect(organizationalDomain('bounces.news.example.co.uk')).toBe('example.co.uk');
    expect(aligned('bounces.example.com', 'news.example.com', 'r')).toBe(true);
    expect(aligned('bounces.example.com', 'news.example.com', 's')).toBe(false);
    expect(aligned('example.net', 'example.com', 'r')).toBe(false);
  });
  it('a DMARC record needs v=DMARC1 first and a policy', () => {
    expect(parseDmarc('v=DMARC1; p=reject; adkim=s')).toMatchObject({ ok: true, record: { policy: 'reject', adkim: 's', aspf: 'r' } });
    expect(parseDmarc('v=DMARC1; rua=mailto:x@example.com').ok).toBe(false);
    expect(parseDmarc('p=none; v=DMARC1').ok).toBe(false);
  });
  it('matches CIDR ranges of both families, and knows loopback', () => {
    expect(inCidr('::ffff:192.0.2.1', '::ffff:192.0.2.0', 120)).toBe(true);
    expect(inCidr('10.1.2.3', '10.0.0.0', 8)).toBe(true);
    expect(inCidr('10.1.2.3', '2001:db8::', 32)).toBe(false);
    expect(['localhost', '127.0.0.1', '::1', '[::1]'].every(isLoopback)).toBe(true);
    expect(isLoopback('smtp.example.com')).toBe(false);
  });
});

describe('the report', () => {
  const check = (status: CheckResult['status']): CheckResult => ({ id: `x.${status}`, area: 'dns', status, message: 'm', fix: 'f' });
  it('exits 1 exactly when a check fails', () => {
    expect(exitCodeOf([check('pass'), check('warn'), check('skip')])).toBe(0);
    expect(exitCodeOf([check('pass'), check('fail')])).toBe(1);
  });
  it('redacts secrets, also percent-encoded as they stand in a URL', () => {
    expect(redact('smtp://u:pa%24s@h and pa$s', ['pa$s'])).toBe('smtp://u:***@h and ***');
  });
  it('prints a fix under each failure and warning, not under a pass', () => {
    expect(formatText([check('pass'), check('fail')])).toMatch(/^ok {4}x\.pass {2}m\nFAIL {2}x\.fail {2}m\n {14}fix: f\n/);
  });
});
