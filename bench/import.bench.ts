/**
 * Import throughput: `npm run bench:import [-- rows]` (default 100,000).
 * Writes a generated CSV (UTF-8 names, quoted commas, an attribute column) to a temp file,
 * imports it into a fresh prefix on REDIS_URL (default the local Redis), imports it again
 * (the "changes nothing" path), reports rows/s and Redis bytes per subscriber, then deletes
 * every key it made.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { clearPrefix } from '../src/demo/clear-prefix.ts';
import { importCsv } from '../src/subscribers/import-csv.ts';
import { SubscriberStore } from '../src/subscribers/subscriber-store.ts';
import { usedMemory } from './probes.ts';
import { writeSubscribersCsv } from './subscribers-csv.ts';

const rows = Number(process.argv[2] ?? 100_000);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench:import:${randomBytes(4).toString('hex')}`;
const file = join(tmpdir(), `${prefix.replace(/:/g, '-')}.csv`);

const redis = new Redis(redisUrl);
try {
  await writeSubscribersCsv(file, rows);
  const store = new SubscriberStore({ redis, prefix });
  const memoryBefore = await usedMemory(redis);
  for (const label of ['first import', 're-import (unchanged)']) {
    const started = process.hrtime.bigint();
    const report = await importCsv(store, createReadStream(file), { file, list: 'weekly' });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rate = Math.round(rows / seconds);
    console.log(
      `${label}: ${rows.toLocaleString('en')} rows in ${seconds.toFixed(2)} s = ${rate.toLocaleString('en')} rows/s ` +
        `(imported ${report.imported}, updated ${report.updated}, unchanged ${report.unchanged}, rejected ${report.rejectedTotal})`,
    );
    if (label === 'first import') {
      const bytes = (await usedMemory(redis)) - memoryBefore;
      console.log(`Redis memory: ${(bytes / 1024 / 1024).toFixed(1)} MB, about ${Math.round(bytes / rows)} bytes per subscriber`);
    }
  }
  console.log(`count: ${await store.countList('weekly')}; heap used: ${Math.round(process.memoryUsage().heapUsed / 1024 / 1024)} MB`);
} finally {
  await clearPrefix(redis, prefix);
  await rm(file, { force: true });
  redis.disconnect();
}
