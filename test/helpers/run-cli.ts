/** Runs the real `newsletter` CLI as a child process, as a user would, and collects what it printed. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

export interface CliResult {
  /** The exit code; null when it was killed (e.g. by the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

const repo = resolve(import.meta.dirname, '..', '..');

/**
 * `env` is the whole environment of the child (merge process.env in yourself to inherit it).
 * No standard input, as in CI; killed after `timeoutMs`.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [resolve(repo, 'bin', 'newsletter.js'), ...args],
      { cwd: repo, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (error as { code?: unknown }).code : 0;
        done({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}
