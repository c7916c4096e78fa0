/**
 * Postfix's smtp-sink (the receiving end) and smtp-source (the ceiling) for bench:send.
 * Installs the Debian package when missing, without leaving a Postfix on port 25.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from '../src/redis/private-redis-server.ts';

const SINK = '/usr/sbin/smtp-sink';
const SOURCE = '/usr/sbin/smtp-source';

export function ensurePostfixTools(log: (line: string) => void): void {
  if (existsSync(SINK) && existsSync(SOURCE)) return;
  log('installing postfix (for smtp-sink and smtp-source) ...');
  if (process.getuid?.() !== 0) throw new Error('smtp-sink is missing: run `apt-get install -y postfix` as root (choose "No configuration")');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // "No configuration": the package installs without configuring or starting a mail server.
  execFileSync('sh', ['-c', 'echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections'], { env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'postfix'], { env, stdio: 'ignore' });
  // Whatever the package did, no Postfix master stays behind.
  spawnSync('postfix', ['stop'], { stdio: 'ignore' });
}

/** smtp-sink on a free loopback port, as the unprivileged user `nobody`. */
export async function startSmtpSink(): Promise<{ port: number; stop(): void }> {
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn(SINK, [...(asRoot ? ['-u', 'nobody'] : []), `127.0.0.1:${port}`, '1024'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const probe = spawnSync('sh', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port} && head -c 3 <&3`], { encoding: 'utf8', timeout: 1000 });
    if (probe.stdout?.startsWith('220')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, stop: () => child.kill('SIGTERM') };
}

/** Seconds smtp-source takes to send `count` copies of `file` over `sessions` kept-open connections. */
export function timeSmtpSource(port: number, file: string, count: number, sessions: number): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(
    SOURCE,
    ['-d', '-s', String(sessions), '-m', String(count), '-F', file, '-f', 'weekly@sofastack.tech', '-t', 'reader@example.org', `127.0.0.1:${port}`],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`smtp-source failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}
