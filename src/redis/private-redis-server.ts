/**
 * A redis-server of our own on a free port: for the tests when no Redis answers, the fault
 * scenarios, the benches, and `newsletter demo` when none is running. It keeps its files in
 * a temporary folder of its own (an AOF never lands in the work tree), is ready once it
 * answers PING, and is killed when this process exits, however it exits. Never the shared
 * Redis. Adapter.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

export interface PrivateRedisOptions {
  /**
   * Keep an append-only file, so what was acknowledged survives a kill and a restart:
   * `always` fsyncs every write (what a durable deployment promises), `everysec` once a
   * second. Default: nothing on disk.
   */
  appendfsync?: 'always' | 'everysec';
  /** More redis-server settings, e.g. `['--maxmemory-policy', 'allkeys-lru']`; they win over the defaults. */
  args?: readonly string[];
  /**
   * Settings that name more ports (`--tls-port`, `--cluster-port`), chosen again on every
   * attempt: a port found free can be taken before redis-server binds it, and trying again
   * with only a new `--port` would meet the same taken one. Kept for restart().
   */
  portArgs?: () => Promise<readonly string[]>;
  /** How long it may take to answer PING (default 10 s). */
  readyTimeoutMs?: number;
  /** Where to look for redis-server (default this process's PATH). */
  path?: string;
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

/** One command in RESP, the protocol Redis speaks. */
function respCommand(...args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/**
 * Whether a Redis at `url` answers PING now (one try; with AUTH first when the URL has
 * credentials, over TLS for rediss://). While it loads an AOF it answers LOADING: not yet.
 * Spoken over a plain socket: a probe, not a client of the app.
 */
export function redisAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port || 6379);
  const tls = target.protocol === 'rediss:';
  const credentials = [target.username, target.password].filter(Boolean).map(decodeURIComponent);
  const commands = [...(target.password ? [respCommand('AUTH', ...credentials)] : []), respCommand('PING')];
  const expected = [...(target.password ? ['+OK'] : []), '+PONG'];
  return new Promise((resolve) => {
    const socket = tls ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
    let replies = '';
    const done = (answers: boolean) => {
      socket.destroy();
      resolve(answers);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once(tls ? 'secureConnect' : 'connect', () => socket.write(commands.join('')));
    socket.on('data', (chunk: Buffer) => {
      replies += chunk.toString('utf8');
      // Every reply here is one line (+OK, +PONG, or an -ERROR): wait for as many as were asked for.
      const lines = replies.split('\r\n');
      if (lines.length > expected.length) done(expected.every((want, i) => lines[i] === want));
    });
  });
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
async function spawnServer(port: number, dir: string, options: PrivateRedisOptions, portArgs: readonly string[]): Promise<ChildProcess> {
  const persistence = options.appendfsync ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync] : ['--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, '--maxmemory-policy', 'noeviction'];
  const child = spawn('redis-server', [...args, ...(options.args ?? []), ...portArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.path === undefined ? {} : { env: { PATH: options.path } }),
  });
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
    // A child the server forked (an AOF rewrite after CONFIG SET appendonly yes) outlives its
    // SIGKILL for a moment and may still create a file in the folder being removed.
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  };

  let port = 0;
  let portArgs: readonly string[] = [];
  // A free port can be taken between finding it and binding it: then try others.
  for (let attempt = 1; !child; attempt++) {
    port = await freePort();
    portArgs = (await options.portArgs?.()) ?? [];
    try {
      child = await spawnServer(port, dir, options, portArgs);
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
      child = await spawnServer(port, dir, options, portArgs);
    },
    stop,
  };
}
