/**
 * bench:scale's second memory figure (issue 18): Redis bytes per subscriber when subscribers
 * are on three lists that overlap. In a redis-server of its own (fresh, so its used_memory
 * delta holds nothing but these subscribers), the same generated subscribers are imported
 * three times through importCsv, the code of `newsletter subscribers import`:
 *   1. all N rows into list `a`                        (N new subscribers)
 *   2. rows i with i % 2 == 0 into list `b`            (ceil(N/2) of them join a second list)
 *   3. rows i with i % 3 == 0 into list `c`            (ceil(N/3) join `c`; i % 6 == 0 are on all three)
 * so they end with N + ceil(N/2) + ceil(N/3) memberships, about 1.83 a subscriber, and the
 * later lists are joined after creation, as when a reader signs up for a second list.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { importCsv } from '../src/subscribers/import-csv.ts';
import { startPrivateRedisServer, type PrivateRedisOptions } from '../src/redis/private-redis-server.ts';
import { usedMemory } from './probes.ts';
import { writeSubscribersCsv } from './subscribers-csv.ts';

export const THREE_LISTS = [
  { list: 'a', every: 1 },
  { list: 'b', every: 2 },
  { list: 'c', every: 3 },
] as const;

export const THREE_LISTS_DESCRIPTION =
  'every subscriber on `a`, every 2nd also on `b`, every 3rd also on `c` (every 6th on all three; `b` and `c` joined by later imports)';

export interface ThreeListsResult {
  usedBytes: number;
  bytesPerSubscriber: number;
  memberships: number;
  /** Per import: list, rows, seconds, load average (1 min) when it started. */
  imports: { list: string; rows: number; seconds: number; load: string }[];
}

export async function measureThreeLists({
  subscribers: n,
  file,
  redisOptions,
  log,
}: {
  subscribers: number;
  /** A temp path; the CSVs are written there in turn and removed at the end. */
  file: string;
  redisOptions: PrivateRedisOptions;
  log: (line: string) => void;
}): Promise<ThreeListsResult> {
  const redisServer = await startPrivateRedisServer(redisOptions);
  const probe = new Redis(redisServer.url);
  const env = { REDIS_URL: redisServer.url, REDIS_PREFIX: 'scale', NEWSLETTER_DEV_MODE: '1' };
  const app = await createApp(loadConfig({ env }), { warn: log });
  try {
    const before = await usedMemory(probe);
    const imports: ThreeListsResult['imports'] = [];
    for (const { list, every } of THREE_LISTS) {
      await writeSubscribersCsv(file, n, { every });
      const rows = Math.ceil(n / every);
      const load = loadavg()[0]!.toFixed(1);
      const started = process.hrtime.bigint();
      const report = await importCsv(app.subscribers, createReadStream(file), { file, list });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The first import creates every subscriber; the others only add a list to existing ones.
      const expected = every === 1 ? { imported: rows, updated: 0 } : { imported: 0, updated: rows };
      if (report.imported !== expected.imported || report.updated !== expected.updated || report.rejectedTotal) {
        throw new Error(
          `three lists, import into ${list}: expected ${JSON.stringify(expected)}, got ${JSON.stringify({ ...report, rejected: report.rejected.slice(0, 3) })}`,
        );
      }
      imports.push({ list, rows, seconds, load });
      log(`three lists: imported ${rows} rows into ${list} in ${seconds.toFixed(1)} s`);
    }
    const usedBytes = (await usedMemory(probe)) - before;
    const counts = await Promise.all(THREE_LISTS.map(({ list }) => app.subscribers.countList(list)));
    const total = await app.subscribers.countList();
    if (total !== n || counts.some((count, i) => count !== Math.ceil(n / THREE_LISTS[i]!.every))) {
      throw new Error(`three lists: expected ${n} subscribers, got ${total}, lists ${counts.join('/')}`);
    }
    return { usedBytes, bytesPerSubscriber: usedBytes / n, memberships: counts.reduce((a, b) => a + b, 0), imports };
  } finally {
    probe.disconnect();
    await app.close();
    await redisServer.stop();
    await rm(file, { force: true });
  }
}
