/**
 * A redis-server of our own on a free port: for the tests when no Redis answers, the fault
 * scenarios, the benches, and `newsletter demo` when none is running. It keeps its files in
 * a temporary folder of its own (an AOF never lands in the work tree), is ready once it
 * answers PING, and is killed when this process exits, however it exits. Never the shared
 * Redis. Adapter.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedisOptions {
  /**
   * Keep an append-only file, so what was acknowledged survives a kill and a restart:
   * `always` fsyncs every write (what a durable deployment promises), `everysec` once a
   * second. Default: nothing on disk.
   */
  appendfsync?: 'always' | 'everysec';
  /** More redis-server settings, e.g. `['--maxmemory-policy', 'allkeys-lru']`; they win over the defaults. */
  args?: readonly string[];
  /** How long it may take to answer PING (default 10 s). */
  readyTimeoutMs?: number;
}

export interface PrivateRedisServer {
  readonly url: string;
  readonly port: number;
  /** Its working folder, where the AOF is kept. */
  readonly dir: string;
  /** SIGKILL (a crash: only what the AOF holds survives), down for `downMs`, then started again on the same port and folder. */
  restart(downMs?: number): Promise<void>;
  /** Kills it (its data is throwaway) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** Whether a Redis at `url` answers PING now (one try). While it loads an AOF it answers LOADING: not yet. */
export async function redisAnswers(url: string, connectTimeout = 1_000): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const READY_LINE = /Ready to accept connections/;
/** What is kept of its output, to say why it did not start. */
const TAIL_CHARS = 4_000;

class StartFailed extends Error {
  constructor(
    message: string,
    readonly portTaken: boolean,
  ) {
    super(message);
  }
}

/** Spawns redis-server and resolves once it logged that it is ready and answered PING; rejects with its last output if it exits first. */
async function spawnServer(port: number, dir: string, options: PrivateRedisOptions): Promise<ChildProcess> {
  const persistence = options.appendfsync ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync] : ['--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, '--maxmemory-policy', 'noeviction'];
  const child = spawn('redis-server', [...args, ...(options.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-TAIL_CHARS));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const timeoutMs = options.readyTimeoutMs ?? 10_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StartFailed(`redis-server on port ${port} did not start within ${timeoutMs} ms: ${output}`, false)), timeoutMs);
      const done = (error?: Error) => {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        if (error) reject(error);
        else resolve();
      };
      const onData = () => {
        if (READY_LINE.test(output)) done();
      };
      child.stdout!.on('data', onData);
      child.once('error', (error) => done(new StartFailed(`redis-server could not be started (install Redis 7): ${error.message}`, false)));
      child.once('exit', (code, signal) =>
        done(
          new StartFailed(
            `redis-server on port ${port} exited (${code ?? signal}) before it was ready: ${output.trim()}`,
            /Address already in use/i.test(output),
          ),
        ),
      );
    });
    if (!(await redisAnswers(`redis://127.0.0.1:${port}`, timeoutMs)))
      throw new StartFailed(`redis-server on port ${port} said it was ready but does not answer PING`, false);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  child.removeAllListeners('exit');
  return child;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));

export async function startPrivateRedisServer(options: PrivateRedisOptions = {}): Promise<PrivateRedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'newsletter-redis-'));
  let child: ChildProcess | undefined;
  // Synchronous, because 'exit' handlers cannot wait: the server must not outlive this process.
  const killOnExit = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const kill = async () => {
    if (!child) return;
    const gone = exited(child);
    child.kill('SIGKILL');
    await gone;
    child = undefined;
  };
  const stop = async () => {
    process.off('exit', killOnExit);
    await kill();
    rmSync(dir, { recursive: true, force: true });
  };

  let port = 0;
  // A free port can be taken between finding it and binding it: then try another.
  for (let attempt = 1; !child; attempt++) {
    port = await freePort();
    try {
      child = await spawnServer(port, dir, options);
    } catch (error) {
      if (error instanceof StartFailed && error.portTaken && attempt < 5) continue;
      await stop();
      throw error;
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async restart(downMs = 0) {
      await kill();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      child = await spawnServer(port, dir, options);
    },
    stop,
  };
}
