/**
 * How every long-running process ends: on the first SIGTERM or SIGINT it stops taking work
 * and shuts down in order (its own stop, then the App's clients). One body for the web
 * server, the delivery worker and the preview, whether started by the CLI or by workers/.
 */
import type { Logger } from '../logger.ts';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** start and stop are plain functions (taken off the object and called on their own), not methods. */
export interface ProcessLifecycle {
  /** Starts serving; a failure runs `stop` and is thrown. */
  start: () => Promise<void>;
  /** Stops taking work, finishes what is in flight, closes every client. */
  stop: () => Promise<void>;
  /** Names the process in the log lines "<what> stopping" and "<what> stopped". */
  what: string;
  log?: Pick<Logger, 'info'>;
}

/**
 * Starts, then waits for SIGTERM or SIGINT and stops; resolves once stopped. Signals are
 * caught from before start, so one that arrives while starting still shuts down in order,
 * and a second one while draining does not kill the process halfway.
 */
export async function runUntilSignal({ start, stop, what, log }: ProcessLifecycle): Promise<void> {
  let received: (signal: NodeJS.Signals) => void = () => {};
  const signalled = new Promise<NodeJS.Signals>((resolve) => (received = resolve));
  const onSignal = (signal: NodeJS.Signals) => received(signal);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    try {
      await start();
    } catch (error) {
      await stop();
      throw error;
    }
    const signal = await signalled;
    log?.info({ signal }, `${what} stopping`);
    await stop();
    log?.info(`${what} stopped`);
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}
