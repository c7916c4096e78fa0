/**
 * A private `redis-server` for one fault scenario: its own free port and data folder, AOF on,
 * so it can be killed and restarted with what it had acknowledged. Never the shared Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.ts';
import { redisAnswers } from '../helpers/redis-answers.ts';

export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILL (a crash: only what the AOF holds survives), then start again on the same port and folder. */
  restart(downMs?: number): Promise<void>;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

const answers = (url: string) => redisAnswers(url, 500);

const exited = (proc: ChildProcess) =>
  proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => proc.once('exit', () => resolve()));

/** `appendfsync always`: every write the server acknowledged survives a kill, as a durable deployment promises. */
export async function startPrivateRedis({ appendfsync = 'always' }: { appendfsync?: 'always' | 'everysec' } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'newsletter-faults-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;

  const start = async () => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      appendfsync,
      '--maxmemory-policy',
      'noeviction',
      '--logfile',
      join(dir, 'redis.log'),
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    proc = child;
    const failed = new Promise<never>((_, reject) => child.once('error', () => reject(new Error('redis-server could not be started: install Redis 7'))));
    const ready = (async () => {
      for (let i = 0; i < 100; i++) {
        if (await answers(url)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`private redis-server on port ${port} did not answer`);
    })();
    await Promise.race([ready, failed]);
  };
  const kill = async () => {
    if (!proc) return;
    const gone = exited(proc);
    proc.kill('SIGKILL');
    await gone;
    proc = undefined;
  };

  await start();
  return {
    url,
    port,
    async restart(downMs = 0) {
      await kill();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
    async close() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
