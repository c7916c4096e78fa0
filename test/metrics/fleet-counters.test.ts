import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { counterField, MESSAGES, SEND_DURATION, sumField } from '../../src/metrics/definitions.ts';
import { FleetCounters, fleetMetricsKey } from '../../src/metrics/fleet-counters.ts';
import { metricsRecorder } from '../../src/metrics/metric-tally.ts';
import { freePort } from '../../src/redis/private-redis-server.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';

let redis: Redis;
let cleanup: () => Promise<void>;
let prefix: string;
const opened: FleetCounters[] = [];
const open = (flushMs = 60_000) => {
  const counters = new FleetCounters({ redis, prefix, flushMs });
  opened.push(counters);
  return counters;
};
const accepted = counterField(MESSAGES, { outcome: 'accepted', reply_class: '2xx' });

beforeEach(async () => {
  prefix = uniquePrefix('metrics');
  ({ redis, cleanup } = await connectTestRedis(prefix));
});
afterEach(async () => {
  for (const counters of opened.splice(0)) await counters.close();
  await cleanup();
});

describe('FleetCounters', () => {
  it('adds every process’s deltas to one hash under the prefix’s hash tag, only when flushed', async () => {
    const [a, b] = [open(), open()];
    const [ra, rb] = [metricsRecorder(a.tally, () => 0), metricsRecorder(b.tally, () => 0)];
    ra.sendStarted()('accepted', '2xx');
    ra.sendStarted()('accepted', '2xx');
    rb.sendStarted()('accepted', '2xx');
    expect(fleetMetricsKey(prefix)).toBe(`${prefix}:{${prefix}}:metrics`);
    expect(await redis.exists(fleetMetricsKey(prefix))).toBe(0);
    await a.flush();
    await b.flush();
    await a.flush(); // nothing new: no change
    const hash = await redis.hgetall(fleetMetricsKey(prefix));
    expect(hash[accepted]).toBe('3');
    expect(hash[`${SEND_DURATION.name}{le="0.005"}`]).toBe('3');
    expect(Number(hash[sumField(SEND_DURATION)])).toBe(0);
  });

  it('read() includes this process’s latest counts; close() flushes the rest', async () => {
    const counters = open();
    counters.tally.add(accepted, 5);
    expect((await counters.read())[accepted]).toBe('5');
    counters.tally.add(accepted, 2);
    await counters.close();
    expect(await redis.hget(fleetMetricsKey(prefix), accepted)).toBe('7');
  });

  it('flushes on its own every flushMs', async () => {
    const counters = open(100);
    counters.tally.add(accepted, 4);
    await expect.poll(() => redis.hget(fleetMetricsKey(prefix), accepted), { timeout: 5_000 }).toBe('4');
    expect(counters.tally.isEmpty).toBe(true);
  });

  it('keeps the counts when Redis cannot be reached, and reports it', async () => {
    const down = new Redis(`redis://127.0.0.1:${await freePort()}`, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const errors: Error[] = [];
    const counters = new FleetCounters({ redis: down, prefix, flushMs: 60_000, onError: (error) => errors.push(error) });
    counters.tally.add(accepted, 3);
    await counters.close();
    expect(errors).toHaveLength(1);
    expect(Object.fromEntries(counters.tally.take())).toEqual({ [accepted]: 3 });
    down.disconnect();
  });
});
