/** The pause, backoff, slow start and caps of receiving groups, against the real test Redis. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { DomainPace, type GroupCap, type PaceSettings } from '../../src/delivery/domain-pace.ts';
import { connectTestRedis, uniquePrefix } from '../helpers/redis.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function pace(
  settings: Partial<PaceSettings> & { caps?: Record<string, GroupCap> } = {},
): Promise<{ pace: DomainPace; redis: Redis; prefix: string; other: () => DomainPace }> {
  const prefix = uniquePrefix('pace');
  const { redis, cleanup } = await connectTestRedis(prefix);
  const full: PaceSettings = {
    pauseMs: 200,
    maxPauseMs: 700,
    rampStepMs: 200,
    capOf: (g) => settings.caps?.[g] ?? { perSecond: 0, connections: 0 },
    ...settings,
  };
  const made: DomainPace[] = [];
  const other = () => {
    const p = new DomainPace({ redis, prefix, settings: full });
    made.push(p);
    return p;
  };
  cleanups.push(async () => {
    for (const p of made) p.close();
    await cleanup();
  });
  return { pace: other(), redis, prefix, other };
}

describe('DomainPace', () => {
  it('pauses a group for the fleet, doubles the pause when it throttles again while recovering, and starts over once back at full pace', async () => {
    const { pace: a, other } = await pace();
    const b = other();
    const first = await a.throttled('google', '421 4.7.28 unusual rate', undefined);
    expect(first).toMatchObject({ opened: true, pausedForMs: 200, pauses: 1 });
    // Replies of messages in flight change nothing.
    expect(await b.throttled('google', '421 4.7.28 unusual rate', undefined)).toMatchObject({ opened: false, pauses: 1 });
    // Another worker sees it on its next read, and is refused at once; other groups go on.
    const [seen] = await b.read();
    expect(seen).toMatchObject({ group: 'google', state: 'paused', share: 0, reason: '421 4.7.28 unusual rate', pauses: 1 });
    expect(Date.parse(seen!.until)).toBeGreaterThan(Date.now());
    expect(await b.admit('google')).toMatchObject({ go: false });
    expect(await b.admit('example.org')).toMatchObject({ go: true });

    // The pause ends: slow start at 10 %, and a throttle then doubles the pause.
    await expect.poll(async () => (await b.read())[0]?.state, { interval: 20 }).toBe('slow-start');
    expect((await b.read())[0]?.share).toBeCloseTo(0.1);
    expect(await b.throttled('google', 'again', undefined)).toMatchObject({ opened: true, pausedForMs: 400, pauses: 2 });
    await expect.poll(async () => (await b.read())[0]?.state, { interval: 20 }).toBe('slow-start');
    expect(await a.throttled('google', 'again', undefined)).toMatchObject({ opened: true, pausedForMs: 700, pauses: 3 });
    // A wait the reply asks for replaces the backoff (up to the longest pause).
    await expect.poll(async () => (await a.read())[0]?.state, { interval: 20, timeout: 2_000 }).toBe('slow-start');
    expect(await a.throttled('google', 'try again in 1 s', 300)).toMatchObject({ pausedForMs: 300 });

    // Back at full pace (4 steps of 200 ms after the pause): no longer listed, and the next pause is the first again.
    await expect.poll(async () => (await a.read()).length, { interval: 50, timeout: 3_000 }).toBe(0);
    expect(await a.throttled('google', 'later', undefined)).toMatchObject({ opened: true, pausedForMs: 200, pauses: 1 });
  });

  it('climbs back slowly after a pause: 10, 20, 40, 80 % of the cap, then full', async () => {
    const { pace: a } = await pace({ pauseMs: 100, rampStepMs: 300 });
    await a.throttled('yahoo', '421 4.7.0 [TSS04]', undefined);
    const shares: number[] = [];
    await expect
      .poll(
        async () => {
          const [state] = await a.read();
          if (state && state.share > 0 && shares.at(-1) !== state.share) shares.push(state.share);
          return state;
        },
        { interval: 25, timeout: 3_000 },
      )
      .toBeUndefined();
    expect(shares).toEqual([0.1, 0.2, 0.4, 0.8]);
  });

  it('holds a capped group to its rate for all workers together, on Redis time', async () => {
    const { pace: a, other } = await pace({ caps: { capped: { perSecond: 50, connections: 0 } } });
    const b = other();
    const started = Date.now();
    const admitted: number[] = [];
    await Promise.all(
      [a, b].flatMap((p) =>
        Array.from({ length: 20 }, async () => {
          const admission = await p.admit('capped');
          expect(admission.go).toBe(true);
          admitted.push(Date.now() - started);
        }),
      ),
    );
    // 40 admissions at 50 a second: the last one about 0.78 s after the first.
    admitted.sort((x, y) => x - y);
    expect(admitted.at(-1)! - admitted[0]!).toBeGreaterThan(700);
    expect(admitted.at(-1)! - admitted[0]!).toBeLessThan(1_000);
  });

  it("holds deliveries in flight to the connection cap, and a killed worker's slots come back when their lease expires", async () => {
    const { pace: a, redis, prefix } = await pace({ caps: { few: { perSecond: 0, connections: 2 } } });
    const one = await a.admit('few');
    const two = await a.admit('few');
    expect(one.go && two.go).toBe(true);
    let third = false;
    const waiting = a.admit('few').then((admission) => (third = admission.go));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(third).toBe(false);
    if (one.go) one.release();
    await waiting;
    expect(third).toBe(true);
    // A worker that died holding both: its leases expire (scored by expiry on Redis's clock).
    const leases = `${prefix}:{${prefix}}:pace:c:few`;
    await redis.zadd(leases, 0, 'dead:1', 0, 'dead:2');
    expect(await redis.zcard(leases)).toBe(4);
    if (two.go) two.release();
    const after = await a.admit('few');
    expect(after.go).toBe(true);
  });
});
