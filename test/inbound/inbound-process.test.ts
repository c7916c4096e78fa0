/**
 * `newsletter inbound` as an operator runs it: a real process, killed with SIGKILL right after
 * it answered 250 (the message must already be in Redis), stopped with SIGTERM (exit 0), and
 * refusing to start, with the setting named, when it could not do its job.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { maskEmail } from '../../src/logger.ts';
import { returnedMailJobId } from '../../src/inbound/returned-mail-queue.ts';
import { processesPerTest } from '../helpers/processes.ts';
import { connectTestRedis } from '../helpers/redis.ts';
import { runCli } from '../helpers/run-cli.ts';
import { connectSmtp } from './smtp-client.ts';
import { fixture, inboundEnv, RETURN_PATH, selfSignedCertificate } from './inbound-harness.ts';

const processes = processesPerTest();
const prefixes: string[] = [];
afterEach(async () => {
  for (const prefix of prefixes.splice(0)) await (await connectTestRedis(prefix)).cleanup();
});

function envForTest(extra: Record<string, string> = {}): Record<string, string> {
  const env = inboundEnv(extra);
  prefixes.push(env.REDIS_PREFIX!);
  return env;
}

describe('newsletter inbound (a process)', () => {
  it('killed with SIGKILL right after its 250, has the message in Redis with its exact bytes', async () => {
    const env = envForTest();
    const { spawned, url } = await processes.inbound(env);
    const dsn = fixture('qmail-user-unknown.eml');
    const client = await connectSmtp(url);
    await client.command('EHLO relay.example.net');
    const { data } = await client.send({ from: '', to: [RETURN_PATH], raw: dsn });
    expect(data?.code).toBe(250);
    expect(await spawned.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });

    const app = await createApp(loadConfig({ env }), { warn: () => {} });
    try {
      const job = await app.returnedMailQueue().getJob(returnedMailJobId(dsn, [RETURN_PATH]));
      expect(Buffer.from(job!.data.raw, 'base64').equals(dsn)).toBe(true);
      expect(job!.data).toMatchObject({ mailFrom: '', rcptTo: [RETURN_PATH], via: 'smtp' });
    } finally {
      await app.close();
    }
    // Its log names the return path masked, never in full.
    expect(spawned.stdout()).toContain('returned mail recorded');
    expect(spawned.stdout()).toContain(maskEmail(RETURN_PATH));
    expect(spawned.output()).not.toContain(RETURN_PATH);
  });

  it('on SIGTERM, says the connections to come back later, stops and exits 0', async () => {
    const { spawned, url } = await processes.inbound(envForTest());
    const client = await connectSmtp(url);
    await client.command('EHLO relay.example.net');
    expect(await spawned.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await client.reply()).toMatchObject({ code: 421 });
    expect(spawned.stdout()).toMatch(/"msg":"inbound stopped"/);
  });
});

describe('newsletter inbound refuses to start', () => {
  it('without BOUNCE_DOMAIN (nothing to receive), naming it', async () => {
    const { BOUNCE_DOMAIN: _unset, ...env } = envForTest();
    const result = await runCli(['inbound', '--port', '0'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^newsletter: BOUNCE_DOMAIN: set it to the domain whose MX points at this server.*\[CONFIG_INVALID\]\n$/);
  });

  it('with a STARTTLS file it cannot read, or a certificate and key that do not match, naming the setting', async () => {
    const cert = selfSignedCertificate();
    const other = selfSignedCertificate();
    try {
      const missing = await runCli(['inbound', '--port', '0'], {
        env: envForTest({ INBOUND_TLS_CERT: '/nonexistent/cert.pem', INBOUND_TLS_KEY: cert.keyFile }),
      });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^newsletter: INBOUND_TLS_CERT: cannot read \/nonexistent\/cert\.pem: ENOENT.*\[CONFIG_INVALID\]\n$/);
      const mismatched = await runCli(['inbound', '--port', '0'], { env: envForTest({ INBOUND_TLS_CERT: cert.certFile, INBOUND_TLS_KEY: other.keyFile }) });
      expect(mismatched.code).toBe(1);
      expect(mismatched.stderr).toMatch(/^newsletter: INBOUND_TLS_CERT: the certificate and key do not make a TLS context: .*\[CONFIG_INVALID\]\n$/);
      writeFileSync(other.keyFile, 'not a key');
      const garbage = await runCli(['inbound', '--port', '0'], { env: envForTest({ INBOUND_TLS_CERT: cert.certFile, INBOUND_TLS_KEY: other.keyFile }) });
      expect(garbage.stderr).toMatch(/INBOUND_TLS_CERT: the certificate and key do not make a TLS context/);
    } finally {
      cert.remove();
      other.remove();
    }
  });

  it('without a secret outside dev mode (return paths could not be checked), and on a port it cannot listen on', async () => {
    const { NEWSLETTER_DEV_MODE: _dev, ...production } = envForTest();
    const noSecret = await runCli(['inbound', '--port', '0'], { env: production });
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toMatch(/^newsletter: NEWSLETTER_SECRET: .*\[CONFIG_INVALID\]\n$/);

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as { port: number }).port);
      const busy = await runCli(['inbound', '--port', port, '--host', '127.0.0.1'], { env: envForTest() });
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(new RegExp(`^newsletter: INBOUND_PORT: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*\\[CONFIG_INVALID\\]\\n$`));
    } finally {
      taken.close();
    }
  });
});
