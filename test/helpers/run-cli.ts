/**
 * The `newsletter` CLI in a test. runCli runs it in this process, as bin/newsletter.js does,
 * through run(argv, io) with the test's own environment and buffers for its output: no
 * start-up cost. spawnCli runs the real bin/newsletter.js as a child process, for the few
 * tests that check what only a process shows (exit codes as the shell sees them, signals).
 * Either way the command sees only the environment the test gives it.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { run } from '../../src/cli/run.ts';

export interface CliResult {
  /** The exit code; null when a spawned process was killed (e.g. by the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The whole environment of the command; entries set to undefined are left out. */
  env: Record<string, string | undefined>;
  /** Default: the repository, where newsletter.yaml and emails/ are. */
  cwd?: string;
}

export const REPO = resolve(import.meta.dirname, '..', '..');

function defined(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** `newsletter <args>` in this process. */
export async function runCli(args: string[], { env, cwd = REPO }: CliOptions): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: { write: (text) => ((stdout += text), true) },
    stderr: { write: (text) => ((stderr += text), true) },
    env: defined(env),
    cwd,
  });
  return { code, stdout, stderr };
}

/**
 * The environment of a child process: the test's, plus PATH and HOME so that it can start at
 * all. Nothing else of the caller's shell (REDIS_URL, NEWSLETTER_*, SMTP_*) reaches it.
 */
export function childEnv(env: Record<string, string | undefined>): Record<string, string> {
  return defined({ PATH: process.env.PATH, HOME: process.env.HOME, ...env });
}

/** `node <args>` in the repository, to its end; no standard input, as in CI; killed after `timeoutMs`. */
export function spawnNode(args: string[], env: Record<string, string | undefined>, { cwd = REPO, timeoutMs = 60_000 } = {}): Promise<CliResult> {
  return new Promise((done) => {
    const child = execFile(process.execPath, args, { cwd, env: childEnv(env), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (error as { code?: unknown }).code : 0;
      done({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** `node bin/newsletter.js <args>` as a child process, to its end. */
export function spawnCli(args: string[], { env, cwd = REPO, timeoutMs }: CliOptions & { timeoutMs?: number }): Promise<CliResult> {
  return spawnNode([resolve(REPO, 'bin', 'newsletter.js'), ...args], env, { cwd, timeoutMs });
}
