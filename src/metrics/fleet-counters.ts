/**
 * The Redis side of fleet metrics: a process's tally is added to one hash every
 * METRICS_FLUSH_MS (and on close) in one MULTI, never a write per message; the web server
 * reads the whole hash once per scrape. Adapter: { redis, prefix }.
 */
import type { RedisClient } from '../redis/redis-client.ts';
import { isSumField } from './definitions.ts';
import { MetricTally } from './metric-tally.ts';

/** Under the app's prefix, with its hash tag, like every other key (one Redis Cluster slot). */
export function fleetMetricsKey(prefix: string): string {
  return `${prefix}:{${prefix}}:metrics`;
}

export interface FleetCountersDeps {
  redis: RedisClient;
  prefix: string;
  flushMs: number;
  /** A flush failed; its counts are kept and go with the next one. */
  onError?: (error: Error) => void;
}

export class FleetCounters {
  readonly tally = new MetricTally();
  private readonly redis: RedisClient;
  private readonly key: string;
  private readonly onError: (error: Error) => void;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor({ redis, prefix, flushMs, onError = () => {} }: FleetCountersDeps) {
    this.redis = redis;
    this.key = fleetMetricsKey(prefix);
    this.onError = onError;
    this.timer = setInterval(() => void this.flush(), flushMs);
    // Counting must never keep a process alive; close() flushes what is left.
    this.timer.unref();
  }

  /** Adds what was counted since the last flush to the hash. Never throws: failures go to onError. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeDeltas());
    return this.flushing;
  }

  /** The fleet's totals, this process's latest counts included. */
  async read(): Promise<Record<string, string>> {
    await this.flush();
    return this.redis.hgetall(this.key);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async writeDeltas(): Promise<void> {
    if (this.tally.isEmpty) return;
    const deltas = this.tally.take();
    const multi = this.redis.multi();
    for (const [field, amount] of deltas) {
      if (isSumField(field)) multi.hincrbyfloat(this.key, field, amount);
      else multi.hincrby(this.key, field, amount);
    }
    let results: [Error | null, unknown][];
    try {
      results = (await multi.exec()) ?? [];
    } catch (error) {
      // The connection failed, so (almost always) nothing was applied: the deltas go out with the next flush.
      this.tally.putBack(deltas);
      this.onError(error as Error);
      return;
    }
    // The transaction ran; a field Redis refused (not a number) is reported, not retried.
    const refused = results.find(([error]) => error)?.[0];
    if (refused) this.onError(refused);
  }
}
