/**
 * TLS to a Cluster (rediss+cluster://): a certificate for 127.0.0.1 signed by an authority of the
 * test's own, which the process is told to trust as an operator would (NODE_EXTRA_CA_CERTS). The
 * CLI, in a process of its own, imports and counts subscribers through it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type ClusterSetup, type ClusterTls } from '../helpers/redis-topologies.ts';
import { spawnCli } from '../helpers/run-cli.ts';
import { uniquePrefix } from '../helpers/redis.ts';

let dir: string;
let cluster: ClusterSetup | undefined;

/** A certificate authority and a certificate for 127.0.0.1 it signed, made with openssl. */
function certificates(folder: string): ClusterTls {
  const file = (name: string) => join(folder, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: folder, stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=newsletter test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'redis.key', '-out', 'redis.csr', '-subj', '/CN=localhost');
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'redis.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'redis.crt', '-days', '2', '-extfile', 'ext.cnf');
  return { certFile: file('redis.crt'), keyFile: file('redis.key'), caFile: file('ca.crt') };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'newsletter-tls-'));
  cluster = await startCluster({ tls: certificates(dir) });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS to a Redis Cluster', () => {
  it('imports and counts subscribers over rediss+cluster://', async () => {
    expect(cluster!.url).toMatch(/^rediss\+cluster:\/\//);
    const env = { REDIS_URL: cluster!.url, REDIS_PREFIX: uniquePrefix('tls'), NEWSLETTER_DEV_MODE: '1', NODE_EXTRA_CA_CERTS: join(dir, 'ca.crt') };
    const csv = join(dir, 'subscribers.csv');
    writeFileSync(csv, 'email\na@example.org\nb@example.org\n');
    const imported = await spawnCli(['subscribers', 'import', csv, '--list', 'weekly', '--json'], { env });
    expect(imported.stderr).toBe('');
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 2 });
    const counted = await spawnCli(['subscribers', 'count', '--list', 'weekly'], { env });
    expect(counted).toMatchObject({ code: 0 });
    expect(counted.stdout.trim()).toMatch(/^2\b/);
  }, 60_000);
});
