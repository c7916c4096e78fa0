/**
 * npm run bench:migrate [-- --subscribers 200000]
 *
 * Moving a store from the layout before 0.2 (layout 1) to today's: a private redis-server (no
 * persistence; never the shared Redis) is filled with N subscribers written as layout 1 wrote
 * them (a `<rev>|<json>` string each, the email hash, the zset of everybody and one list's zset,
 * bench:scale's generated people: a name, two attributes, one history entry), then
 * `newsletter migrate`'s code moves them. Prints the time, subscribers a second, and Redis
 * memory per subscriber before and after the move.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startPrivateRedisServer } from '../src/redis/private-redis-server.ts';
import { legacyKeys } from '../src/subscribers/subscriber-keys.ts';
import { legacyRecordValue } from '../src/subscribers/subscriber-record.ts';
import { SubscriberStore } from '../src/subscribers/subscriber-store.ts';
import type { Subscriber } from '../src/subscribers/subscriber.ts';
import { usedMemory } from './probes.ts';
import { benchSubscriber } from './subscribers-csv.ts';

const { values: flags } = parseArgs({ options: { subscribers: { type: 'string', default: '200000' } } });
const N = Number(flags.subscribers);
const PREFIX = 'nl';

const server = await startPrivateRedisServer({});
const redis = new Redis(server.url);
try {
  const empty = await usedMemory(redis);
  const keys = legacyKeys(PREFIX);
  const at = new Date().toISOString();
  for (let first = 0; first < N; first += 1000) {
    const pipeline = redis.pipeline();
    for (let i = first; i < Math.min(N, first + 1000); i++) {
      const id = `L${String(i).padStart(15, '0')}`;
      const { email, name, attributes } = benchSubscriber(i);
      const record: Subscriber = {
        id,
        email,
        name,
        status: 'active',
        lists: ['scale'],
        attributes,
        createdAt: at,
        updatedAt: at,
        history: [{ status: 'active', reason: 'imported', at }],
      };
      pipeline
        .set(keys.record(id), legacyRecordValue(record, 1))
        .hset(keys.emailIndex, email, id)
        .zadd(keys.all, 2 * i + 1, id)
        .zadd(keys.list('scale'), 2 * i + 2, id);
    }
    pipeline.set(keys.seq, 2 * Math.min(N, first + 1000));
    await pipeline.exec();
  }
  const before = await usedMemory(redis);
  const store = new SubscriberStore({ redis, prefix: PREFIX });
  const started = process.hrtime.bigint();
  const report = await store.migrateLayout((moved) => {
    if (moved % 50_000 < 100) process.stderr.write(`moved ${moved}\n`);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = await usedMemory(redis);
  const perSubscriber = (bytes: number) => Math.round((bytes - empty) / N);
  console.log(`## bench:migrate, ${N.toLocaleString('en')} subscribers on one list (own redis-server, no persistence), load ${loadavg()[0]!.toFixed(1)}`);
  console.log(
    `moved ${report.moved.toLocaleString('en')} in ${seconds.toFixed(1)} s = ${Math.round(report.moved / seconds).toLocaleString('en')} subscribers/s; left ${report.left}, damaged ${report.damaged.length}`,
  );
  console.log(`Redis per subscriber: ${perSubscriber(before)} bytes before (layout 1), ${perSubscriber(after)} after`);
  console.log(`${await store.countList('scale')} on the list after`);
} finally {
  await redis.quit();
  await server.stop();
}
