/**
 * A real SMTP server (the in-process test server) that misbehaves on a plan: per address
 * and attempt, decided by a seeded hash, so a run can be replayed and every recipient's
 * expected outcome is known in advance. It can also crash and come back on the same port.
 */
import { createHash } from 'node:crypto';
import { MessageLog, startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { startAfterEndProxy, type AfterEndProxy } from './after-end-proxy.ts';

/**
 * What the server does to one RCPT TO: 451 (deferred), cut the connection mid-DATA, or a 5xx
 * rejection; or, once it has the whole message, answer its end late (slowEnd) or drop the
 * connection before the answer reaches the client (dropAfterEnd).
 */
export type Fault = 'defer' | 'drop' | 'reject' | 'slowEnd' | 'dropAfterEnd';

export interface FaultRates {
  seed: string;
  /** Share of addresses deferred (451) on their first attempt, accepted afterwards. */
  defer?: number;
  /** Share of addresses whose first attempt is cut in the middle of DATA, accepted afterwards. */
  drop?: number;
  /** Share of addresses rejected (5xx). */
  reject?: number;
  /** Reject on this many attempts, then accept (default: always). 1 makes failures that `resend --failed` can fix. */
  rejectAttempts?: number;
  /** Default 550 5.1.1 (no such mailbox: a hard bounce). */
  rejectReply?: { code: number; message: string };
  /** Share of addresses whose first message's end is answered only after `slowEndMs` (default 4 s). */
  slowEnd?: number;
  slowEndMs?: number;
  /** Share of addresses whose first message the server takes whole, its connection then dropped before the answer reaches the client. */
  dropAfterEnd?: number;
  /** How long the answer to the end of every message to this address is held (undefined: not held), whatever the attempt. */
  endDelayMs?: (address: string) => number | undefined;
  /** The test's own answer to a RCPT TO, asked before the plan (undefined: the plan decides). */
  onRcpt?: (address: string) => { code: number; message: string } | undefined;
}

/** A number in [0, 1) fixed by the seed and the address. */
function draw(seed: string, address: string): number {
  return createHash('sha256').update(`${seed}\0${address}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** The plan: one draw per address puts it in at most one fault class. */
export function planFault(rates: FaultRates, address: string, attempt: number): Fault | undefined {
  const { defer = 0, drop = 0, reject = 0, rejectAttempts = Infinity, slowEnd = 0, dropAfterEnd = 0 } = rates;
  const u = draw(rates.seed, address);
  if (u < reject) return attempt <= rejectAttempts ? 'reject' : undefined;
  if (attempt > 1) return undefined;
  if (u < reject + drop) return 'drop';
  if (u < reject + drop + defer) return 'defer';
  if (u < reject + drop + defer + slowEnd) return 'slowEnd';
  if (u < reject + drop + defer + slowEnd + dropAfterEnd) return 'dropAfterEnd';
  return undefined;
}

/** The fault class an address belongs to, whatever the attempt. */
export function faultClass(rates: FaultRates, address: string): Fault | undefined {
  return planFault({ ...rates, rejectAttempts: Infinity }, address, 1);
}

export interface FaultSmtpServer extends TestSmtpServer {
  rates: FaultRates;
  /** Crashes now and listens again on the same port after `downMs`; resolves when it is back. */
  outage(downMs: number): Promise<void>;
  /** When the last outage began and ended (Date.now()). */
  outages: { from: number; to: number }[];
}

export async function startFaultSmtpServer(rates: FaultRates): Promise<FaultSmtpServer> {
  const attempts = new Map<string, number>();
  const rejectReply = rates.rejectReply ?? { code: 550, message: '5.1.1 Recipient address rejected: User unknown' };
  const onRcpt = (address: string) => {
    const attempt = (attempts.get(address) ?? 0) + 1;
    attempts.set(address, attempt);
    const own = rates.onRcpt?.(address);
    if (own) return own;
    const fault = planFault(rates, address, attempt);
    if (fault === 'reject') return rejectReply;
    if (fault === 'defer') return { code: 451, message: '4.3.0 Temporary failure, try again later' };
    return undefined;
  };
  // One recipient per message (the delivery sends one message per subscriber).
  const dropDuringData = (to: string[]) => planFault(rates, to[0]!, attempts.get(to[0]!) ?? 1) === 'drop';
  const instances: TestSmtpServer[] = [];
  // One log across restarts: what arrived before an outage still counts.
  const log = new MessageLog();
  const startInstance = async (port?: number) => {
    const instance = await startTestSmtpServer({ onRcpt, script: { dropDuringData }, port, log });
    instances.push(instance);
    return instance;
  };
  const first = await startInstance();
  const current = () => instances.at(-1)!;
  // The end's answer is the server's, so the faults after it are a proxy's in front of it.
  const proxy: AfterEndProxy | undefined =
    rates.slowEnd || rates.dropAfterEnd || rates.endDelayMs
      ? await startAfterEndProxy(first.port, (to) => {
          const delayMs = rates.endDelayMs?.(to);
          if (delayMs !== undefined) return { delayMs };
          const fault = planFault(rates, to, attempts.get(to) ?? 1);
          return fault === 'dropAfterEnd' ? 'drop' : fault === 'slowEnd' ? { delayMs: rates.slowEndMs ?? 4_000 } : undefined;
        })
      : undefined;
  const port = proxy?.port ?? first.port;
  const outages: { from: number; to: number }[] = [];

  return {
    rates,
    url: `smtp://127.0.0.1:${port}`,
    port,
    rcptAttempts: attempts,
    outages,
    messages: log.messages,
    async outage(downMs) {
      const from = Date.now();
      await current().crash();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await startInstance(first.port);
      outages.push({ from, to: Date.now() });
    },
    close: async () => {
      await proxy?.close();
      await current().close();
    },
    crash: async () => {
      await proxy?.close();
      await current().crash();
    },
    waitForMessages: (count, timeoutMs) => log.waitFor(count, timeoutMs),
  };
}
