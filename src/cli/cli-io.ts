/**
 * What one run of the CLI reads and writes. bin/newsletter.js passes the process's own; tests
 * pass buffers and an environment of their own, so a command runs in-process without touching
 * process.env, process.stdout or process.exitCode.
 */

/** Where a command writes text: process.stdout and process.stderr, or a test's buffer. */
export interface CliOutput {
  /** false when a stream's buffer is full: wait for 'drain' before writing more. */
  write(text: string): boolean;
  once?(event: 'drain', listener: () => void): unknown;
  /** A terminal gets a live progress bar; anything else gets plain lines. */
  readonly isTTY?: boolean;
  /** A terminal's width, for help text. */
  readonly columns?: number;
}

export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Read by loadConfig, and passed on to the worker processes `newsletter demo` starts. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Where NEWSLETTER_CONFIG, POSTS_DIR and the demo's paths are resolved from. Paths given as
   * arguments are opened as the file system resolves them, from the process's own directory.
   */
  readonly cwd: string;
}

/** One run: its io, and the exit code a command sets when it ends without an error (e.g. 1 for rejected CSV rows). */
export interface CliRun {
  readonly io: CliIo;
  exitCode: number;
}
