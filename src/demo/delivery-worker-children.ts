/**
 * Real delivery workers as child processes (`node bin/newsletter.js worker`), as an
 * operator runs them: `newsletter demo` starts a few, waits until they have joined the
 * queue, and stops them with SIGTERM, which lets in-flight messages finish. Adapter.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const NEWSLETTER_BIN = fileURLToPath(new URL('../../bin/newsletter.js', import.meta.url));
/** What is kept of a worker's output, to explain a worker that died. */
const TAIL_CHARS = 2_000;

interface Child {
  process: ChildProcess;
  output: string;
  exit: Promise<number | null>;
}

export class DeliveryWorkerChildren {
  private readonly children: Child[];
  private stopping = false;
  /** Rejects as soon as a worker exits before stop() was asked for. */
  readonly died: Promise<never>;

  constructor(count: number, env: NodeJS.ProcessEnv) {
    this.children = Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [NEWSLETTER_BIN, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const entry: Child = { process: child, output: '', exit: new Promise((resolve) => child.once('exit', resolve)) };
      const keep = (chunk: Buffer) => (entry.output = (entry.output + chunk.toString('utf8')).slice(-TAIL_CHARS));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      child.once('error', (error) => keep(Buffer.from(`\n${error.message}\n`)));
      return entry;
    });
    this.died = new Promise<never>((_, reject) => {
      for (const child of this.children) {
        void child.exit.then((code) => {
          if (!this.stopping) reject(new Error(`a delivery worker (pid ${child.process.pid}) exited with code ${code}: ${lastLine(child.output)}`));
        });
      }
    });
    this.died.catch(() => {}); // observed through waitUntil/race by the caller
    // Should this process end without stop() (a crash, Ctrl-C, SIGTERM), the workers must not live on.
    process.once('exit', this.terminate);
  }

  private readonly terminate = () => {
    for (const child of this.children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM');
  };

  get pids(): number[] {
    return this.children.map((c) => c.process.pid ?? 0);
  }

  /** Polls `count()` (workers connected to the queue) until every child has joined. */
  async waitUntilJoined(count: () => Promise<number>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const joined = (async () => {
      while ((await count()) < this.children.length) {
        if (Date.now() > deadline) throw new Error(`the delivery workers did not start within ${timeoutMs / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await Promise.race([joined, this.died]);
  }

  /** SIGTERM to every worker, then waits for them; SIGKILL only if one hangs past the timeout. Resolves with the exit codes. */
  async stop(timeoutMs = 20_000): Promise<(number | null)[]> {
    this.stopping = true;
    process.off('exit', this.terminate);
    const running = this.children.filter((c) => c.process.exitCode === null && c.process.signalCode === null);
    this.terminate();
    const timer = setTimeout(() => {
      for (const child of running) child.process.kill('SIGKILL');
    }, timeoutMs);
    try {
      return await Promise.all(this.children.map((c) => c.exit));
    } finally {
      clearTimeout(timer);
    }
  }
}

function lastLine(output: string): string {
  return output.trim().split('\n').at(-1) ?? '(no output)';
}
