/**
 * Long-running processes in tests: `newsletter server`, `newsletter worker`, `newsletter
 * inbound`, `newsletter preview` and scripts run through tsx, started as an operator starts them and given only the
 * environment the test gives (see childEnv). Each is ready once its output says so; the
 * registry kills whatever is left when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';
import { childEnv, REPO } from './run-cli.ts';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Spawned {
  proc: ChildProcess;
  /** What matched `ready` in its output (groups included, e.g. the URL it listens at). */
  ready: RegExpExecArray;
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** What it wrote to stdout alone (its JSON log lines). */
  stdout(): string;
  alive(): boolean;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

export class ProcessRegistry {
  private readonly all = new Set<Spawned>();

  /** `node <args>` in the repository; resolves once `ready` matches its output, rejects if it exits first. */
  async start(args: string[], env: Record<string, string | undefined>, ready: RegExp, timeoutMs = 60_000): Promise<Spawned> {
    const proc = spawn(process.execPath, args, { cwd: REPO, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    const exited = new Promise<Exit>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    proc.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const spawned = {
      proc,
      exited,
      output: () => output,
      stdout: () => stdout,
      alive: () => proc.exitCode === null && proc.signalCode === null,
      async stop(signal: NodeJS.Signals = 'SIGKILL') {
        if (spawned.alive()) proc.kill(signal);
        return exited;
      },
    } as Spawned;
    this.all.add(spawned);
    void exited.then(() => this.all.delete(spawned));
    spawned.ready = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${args.join(' ')} not ready after ${timeoutMs} ms: ${output.slice(-2000)}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = ready.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match);
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${args.join(' ')} exited before it was ready (${code ?? signal}): ${output.slice(-2000)}`));
      });
    });
    return spawned;
  }

  /** `node bin/newsletter.js <args>`. */
  newsletter(args: string[], env: Record<string, string | undefined>, ready: RegExp): Promise<Spawned> {
    return this.start(['bin/newsletter.js', ...args], env, ready);
  }

  /** A delivery worker: `newsletter worker` (its "worker ready" is an info line). */
  worker(env: Record<string, string | undefined>): Promise<Spawned> {
    return this.newsletter(['worker'], { LOG_LEVEL: 'info', ...env }, /worker ready/);
  }

  /** The web server on a port of its choosing: `newsletter server --port 0`; `url` is where it listens. */
  async server(env: Record<string, string | undefined>): Promise<{ spawned: Spawned; url: string }> {
    const spawned = await this.newsletter(['server', '--port', '0'], { LOG_LEVEL: 'info', ...env }, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
    return { spawned, url: spawned.ready[1]! };
  }

  /** The inbound server on a port of its choosing: `newsletter inbound --port 0`; `url` is where it listens (smtp://…). */
  async inbound(env: Record<string, string | undefined>): Promise<{ spawned: Spawned; url: string }> {
    const spawned = await this.newsletter(['inbound', '--port', '0'], { LOG_LEVEL: 'info', ...env }, /inbound listening at (smtp:\/\/127\.0\.0\.1:\d+)/);
    return { spawned, url: spawned.ready[1]! };
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

/** A registry for the calling file whose processes are killed after each test, whatever happened. */
export function processesPerTest(): ProcessRegistry {
  const registry = new ProcessRegistry();
  afterEach(() => registry.killAll());
  return registry;
}
