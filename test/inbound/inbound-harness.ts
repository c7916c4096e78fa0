/**
 * `newsletter inbound` built in this process as the CLI builds it (buildInboundServer on an
 * App from an explicit environment), listening on a free port, with its own Redis prefix; and
 * what the tests send it: a return path signed with the dev secret, the fixture messages.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { campaignRef, returnPathFor } from '../../src/delivery/return-path.ts';
import type { ReturnedMailOutcome } from '../../src/inbound/process-returned-mail.ts';
import type { ReturnedMail } from '../../src/inbound/returned-mail-queue.ts';
import { buildInboundServer, type InboundServer, type InboundServerOptions } from '../../src/processes/inbound-server.ts';
import { DEV_SECRET } from '../../src/subscribers/signing-secrets.ts';
import { connectTestRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

export const DOMAIN = 'bounces.news.example.org';
/** The return path of subscriber AbCdEfGhIjKlMnOp in campaign weekly-2024-05-03--default, as the fixtures name them. */
export const RETURN_PATH = returnPathFor(DEV_SECRET, DOMAIN, campaignRef('weekly-2024-05-03--default'), 'AbCdEfGhIjKlMnOp');

/** A fixture message as a relay sends it: CRLF line ends (the files have LF), bytes otherwise untouched. */
export function fixture(name: string): Buffer {
  const bytes = readFileSync(new URL(`../fixtures/bounces/${name}`, import.meta.url));
  return Buffer.from(bytes.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

export const JOB_STATES = ['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized'] as const;

export interface RunningInbound {
  app: App;
  inbound: InboundServer;
  /** smtp://127.0.0.1:<port>; '' when there is no SMTP server (no BOUNCE_DOMAIN). */
  url: string;
  prefix: string;
  env: Record<string, string>;
  /** Every returned-mail job in Redis, whatever its state. */
  jobs(): Promise<Job<ReturnedMail, ReturnedMailOutcome>[]>;
  close(): Promise<void>;
}

/** The test environment of the inbound process: its own prefix, dev mode, BOUNCE_DOMAIN. */
export function inboundEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: uniquePrefix('inb'), NEWSLETTER_DEV_MODE: '1', BOUNCE_DOMAIN: DOMAIN, ...extra };
}

export async function startInbound(
  env: Record<string, string> = inboundEnv(),
  options: InboundServerOptions & { redisUrlIsPrivate?: boolean } = {},
): Promise<RunningInbound> {
  const app = await createApp(loadConfig({ env }), { warn: () => {} });
  let inbound: InboundServer;
  let url: string;
  try {
    inbound = await buildInboundServer(app, options);
    url = (await inbound.start({ port: 0, host: '127.0.0.1' })) ?? '';
  } catch (error) {
    await app.close();
    throw error;
  }
  const prefix = env.REDIS_PREFIX!;
  return {
    app,
    inbound,
    url,
    prefix,
    env,
    jobs: () => app.returnedMailQueue().getJobs([...JOB_STATES]),
    async close() {
      await app.close();
      if (!options.redisUrlIsPrivate) await (await connectTestRedis(prefix)).cleanup();
    },
  };
}

/** A self-signed certificate and its key (openssl), in a folder removed by `remove`. */
export function selfSignedCertificate(commonName = 'inbound.test'): { certFile: string; keyFile: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'inbound-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
