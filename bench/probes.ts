/**
 * Measuring helpers for the benchmarks: Redis memory from INFO, a process's resident memory,
 * and a sampler that reads one of them at a fixed interval while something else runs.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** A numeric field of `INFO <section>`. */
export async function redisInfoNumber(redis: Redis, section: string, field: string): Promise<number> {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(await redis.info(section));
  if (!match) throw new Error(`INFO ${section} has no ${field}`);
  return Number(match[1]);
}

/** Bytes Redis has allocated for data and buffers (INFO memory used_memory). */
export function usedMemory(redis: Redis): Promise<number> {
  return redisInfoNumber(redis, 'memory', 'used_memory');
}

/** Resident set size of a running process, in bytes (Linux /proc). */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export interface Sample<T> {
  /** Seconds since the sampler started. */
  at: number;
  value: T;
}

/** Reads `read()` now and then every `intervalMs` until stop(), which takes one last sample. */
export function startSampler<T>(intervalMs: number, read: () => T | Promise<T>): { samples: Sample<T>[]; stop(): Promise<Sample<T>[]> } {
  const started = process.hrtime.bigint();
  const samples: Sample<T>[] = [];
  const take = async () => {
    const value = await read();
    samples.push({ at: Number(process.hrtime.bigint() - started) / 1e9, value });
  };
  let pending = take();
  const timer = setInterval(() => {
    pending = pending.then(take);
  }, intervalMs);
  return {
    samples,
    async stop() {
      clearInterval(timer);
      await pending;
      await take();
      return samples;
    },
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
