/**
 * Real processes for fault scenarios: `newsletter worker` and `newsletter server`, started
 * exactly as an operator starts them, and a registry that kills whatever is left at teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../helpers/free-port.ts';

export interface Spawned {
  proc: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  alive(): boolean;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class ProcessRegistry {
  private readonly all = new Set<Spawned>();

  /** `node bin/newsletter.js <args>` with this environment; resolves once `ready` matches its output. */
  async start(args: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 60_000): Promise<Spawned> {
    const proc = spawn(process.execPath, ['bin/newsletter.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const spawned: Spawned = {
      proc,
      exited,
      output: () => output,
      alive: () => proc.exitCode === null && proc.signalCode === null,
      async stop(signal = 'SIGKILL') {
        if (spawned.alive()) proc.kill(signal);
        return exited;
      },
    };
    this.all.add(spawned);
    void exited.then(() => this.all.delete(spawned));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${args[0]} not ready after ${timeoutMs} ms: ${output.slice(-2000)}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (ready.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${args[0]} exited before it was ready (${code ?? signal}): ${output.slice(-2000)}`));
      });
    });
    return spawned;
  }

  /** A delivery worker: `newsletter worker`. */
  worker(env: Record<string, string>): Promise<Spawned> {
    return this.start(['worker'], env, /ready/);
  }

  /** The web server on a free port: `newsletter server --port P`. */
  async server(env: Record<string, string>): Promise<{ spawned: Spawned; url: string }> {
    const port = await freePort();
    const spawned = await this.start(['server', '--port', String(port)], env, /Server listening|listening at/i);
    return { spawned, url: `http://127.0.0.1:${port}` };
  }

  /** How many of the started processes are still running. */
  running(): number {
    return [...this.all].filter((s) => s.alive()).length;
  }

  /** SIGKILL everything still running. */
  async killAll(): Promise<void> {
    await Promise.all([...this.all].map((s) => s.stop('SIGKILL')));
  }
}
