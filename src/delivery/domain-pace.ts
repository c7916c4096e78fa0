/**
 * The pace of each receiving group (receiving-domain.ts), for the whole fleet. Adapter: { redis, prefix }.
 *
 * - A throttling reply (throttle-reply.ts) pauses the group for every worker on every host: for
 *   the wait the reply asks, or `pauseMs`, doubled when the group throttles again before it is
 *   back at full pace, up to `maxPauseMs`.
 * - When the pause ends the group resumes slowly: 10 % of its rate, doubling every `rampStepMs`
 *   (10, 20, 40, 80 %), then full. A group without a cap ramps from RAMP_BASE_PER_SECOND.
 * - Caps: messages per second (GCRA, as rate-limiter.ts) and deliveries in flight (a lease per
 *   delivery in a sorted set, scored by its expiry, so a killed worker's slots come back).
 *
 * Everything runs in scripts on Redis's own clock (hosts' clocks may differ). Each process
 * reads the groups being paced every `watchMs`, so a group that is neither capped nor paced
 * costs no Redis call per message; a capped or recovering one costs one.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../redis/redis-client.ts';
import { ADMIT, READ, RAMP_STEPS, RENEW, THROTTLED, type PaceRedis } from './domain-pace-scripts.ts';

export interface GroupCap {
  /** Messages per second for the whole fleet; 0: no cap. */
  perSecond: number;
  /** Deliveries in flight for the whole fleet; 0: no cap. */
  connections: number;
}

export interface PaceSettings {
  pauseMs: number;
  maxPauseMs: number;
  rampStepMs: number;
  /** The cap of a group (a provider's group name or a domain); {0, 0} when none. */
  capOf(group: string): GroupCap;
}

/** What an uncapped group's slow start is a share of, in messages per second. */
export const RAMP_BASE_PER_SECOND = 50;
/** A delivery's slot expires unless renewed this often (a killed worker's slots come back after it). */
const LEASE_MS = 30_000;

export interface GroupPace {
  group: string;
  /** paused: nothing starts until `until`; slow-start: back at `share` of its rate, climbing. */
  state: 'paused' | 'slow-start';
  /** When the pause ends (ISO, Redis's clock). */
  until: string;
  pausedForMs: number;
  /** The share of the group's rate allowed now (0 while paused). */
  share: number;
  /** The throttling reply that paused it. */
  reason: string;
  /** How often it was paused since it was last at full pace. */
  pauses: number;
}

/**
 * go: start the message (and `release` its connection once the server answered); or not now:
 * the group is paused (`paused`), or its cap has more recipients queued in this process than it
 * takes within ADMIT_QUEUE_MS, and the recipient is handed back to come again after `retryMs`.
 */
export type Admission = { go: true; release: () => void } | { go: false; paused: boolean; retryMs: number };

/**
 * The longest a recipient waits in this process for its capped group's turn. Longer, and it is
 * handed back: a batch then ends with its other recipients sent instead of waiting for the
 * slowest group's queue, and the next batches (other domains too) come in.
 */
export const ADMIT_QUEUE_MS = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DomainPace {
  private readonly redis: PaceRedis;
  private readonly base: string;
  private readonly settings: PaceSettings;
  /** Groups being paced, as last read: when each is back at full pace, and its pause's end (this host's clock). */
  private known = new Map<string, { pausedUntil: number; fullAt: number }>();
  /** Admissions of one group in this process go one after another: one reservation pending per group per process. */
  private readonly gates = new Map<string, { tail: Promise<void>; users: number }>();
  /** Leases held by this process: id -> group. */
  private readonly leases = new Map<string, string>();
  private timers: NodeJS.Timeout[] = [];
  private readonly processId = randomBytes(6).toString('hex');
  private leaseCount = 0;

  constructor({ redis, prefix, settings }: { redis: RedisClient; prefix: string; settings: PaceSettings }) {
    const scripted = redis as unknown as Partial<PaceRedis>;
    if (!scripted.paceAdmit) {
      redis.defineCommand('paceThrottled', { lua: THROTTLED, numberOfKeys: 2 });
      redis.defineCommand('paceRead', { lua: READ, numberOfKeys: 1 });
      redis.defineCommand('paceAdmit', { lua: ADMIT, numberOfKeys: 3 });
      redis.defineCommand('paceRenew', { lua: RENEW, numberOfKeys: 1 });
    }
    this.redis = redis as PaceRedis;
    // Under the app's prefix, with its hash tag like every other key (one Redis Cluster slot).
    this.base = `${prefix}:{${prefix}}:pace`;
    this.settings = settings;
  }

  private hashKey(group: string): string {
    return `${this.base}:g:${group}`;
  }

  private get groupsKey(): string {
    return `${this.base}:groups`;
  }

  /** Reads the paced groups now and every `everyMs`, and renews this process's leases. */
  async watch(everyMs = 250): Promise<void> {
    if (this.timers.length > 0) return;
    this.timers.push(setInterval(() => void this.read().catch(() => {}), everyMs));
    this.timers.push(setInterval(() => void this.renew().catch(() => {}), LEASE_MS / 3));
    for (const timer of this.timers) timer.unref();
    await this.read();
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** Every group not yet back at full pace: paused, or resuming slowly. */
  async read(): Promise<GroupPace[]> {
    const flat = await this.redis.paceRead(this.groupsKey, `${this.base}:g:`);
    const paces: GroupPace[] = [];
    const known = new Map<string, { pausedUntil: number; fullAt: number }>();
    const local = Date.now();
    for (let i = 0; i < flat.length; i += 5) {
      const [group, until, now, reason, pauses] = [String(flat[i]), Number(flat[i + 1]), Number(flat[i + 2]), String(flat[i + 3]), Number(flat[i + 4])];
      const pausedForMs = Math.max(0, until - now);
      const since = now - until;
      const share = pausedForMs > 0 ? 0 : Math.min(1, 0.1 * 2 ** Math.floor(since / this.settings.rampStepMs));
      paces.push({ group, state: pausedForMs > 0 ? 'paused' : 'slow-start', until: new Date(until).toISOString(), pausedForMs, share, reason, pauses });
      known.set(group, { pausedUntil: local + pausedForMs, fullAt: local + (until + this.settings.rampStepMs * RAMP_STEPS - now) });
    }
    // A pause this process began after the read was sent stays known until the next read sees it.
    for (const [group, mine] of this.known) if (!known.has(group) && mine.pausedUntil > local) known.set(group, mine);
    this.known = known;
    return paces;
  }

  /** How long, as last seen, until messages to this group may start; 0 when they may. */
  pausedForMs(group: string): number {
    return Math.max(0, (this.known.get(group)?.pausedUntil ?? 0) - Date.now());
  }

  /**
   * A throttling reply from this group: pauses it for the fleet. `opened` is true when this
   * reply began the pause (the caller says so in the log); replies of messages in flight then
   * change nothing.
   */
  async throttled(group: string, reply: string, askedMs: number | undefined): Promise<{ opened: boolean; pausedForMs: number; pauses: number }> {
    const { pauseMs, maxPauseMs, rampStepMs } = this.settings;
    const [opened, left, pauses] = await this.redis.paceThrottled(
      this.hashKey(group),
      this.groupsKey,
      pauseMs,
      maxPauseMs,
      rampStepMs,
      askedMs ?? 0,
      reply.slice(0, 300),
      group,
    );
    const now = Date.now();
    this.known.set(group, { pausedUntil: now + Number(left), fullAt: now + Number(left) + rampStepMs * RAMP_STEPS });
    return { opened: Number(opened) === 1, pausedForMs: Number(left), pauses: Number(pauses) };
  }

  /**
   * Waits until a message to this group may start (its rate, a free connection), or says it is
   * paused. Never holds anything of the caller's while it waits. `release` gives the connection back.
   */
  async admit(group: string): Promise<Admission> {
    const cap = this.settings.capOf(group);
    const paced = this.known.get(group);
    if (paced && paced.pausedUntil > Date.now()) return { go: false, paused: true, retryMs: paced.pausedUntil - Date.now() };
    if (cap.perSecond <= 0 && cap.connections <= 0 && !(paced && paced.fullAt > Date.now())) return { go: true, release: () => {} };
    const turn = await this.oneAtATime(group, () => this.reserve(group, cap));
    return turn ?? { go: false, paused: false, retryMs: ADMIT_QUEUE_MS };
  }

  private async reserve(group: string, cap: GroupCap): Promise<Admission> {
    const lease = `${this.processId}:${++this.leaseCount}`;
    const leases = `${this.base}:c:${group}`;
    for (let poll = 5; ; poll = Math.min(poll * 2, 50)) {
      const paced = this.known.get(group);
      if (paced && paced.pausedUntil > Date.now()) return { go: false, paused: true, retryMs: paced.pausedUntil - Date.now() };
      const [verdict, value] = await this.redis.paceAdmit(
        this.hashKey(group),
        `${this.base}:r:${group}`,
        leases,
        cap.perSecond,
        cap.connections,
        this.settings.rampStepMs,
        lease,
        LEASE_MS,
        RAMP_BASE_PER_SECOND,
      );
      if (Number(verdict) === -1) {
        const now = Date.now();
        this.known.set(group, { pausedUntil: now + Number(value), fullAt: now + Number(value) + this.settings.rampStepMs * RAMP_STEPS });
        return { go: false, paused: true, retryMs: Number(value) };
      }
      if (Number(verdict) === -2) {
        await sleep(poll);
        continue;
      }
      if (cap.connections > 0) this.leases.set(lease, group);
      if (Number(value) > 0) await sleep(Math.ceil(Number(value) / 1000));
      let released = false;
      return {
        go: true,
        release: () => {
          if (released || cap.connections <= 0) return;
          released = true;
          this.leases.delete(lease);
          void this.redis.zrem(leases, lease).catch(() => {});
        },
      };
    }
  }

  /** Runs `task` after the group's earlier admissions in this process; undefined when its turn does not come within ADMIT_QUEUE_MS. */
  private async oneAtATime<T>(group: string, task: () => Promise<T>): Promise<T | undefined> {
    const gate = this.gates.get(group) ?? { tail: Promise.resolve(), users: 0 };
    this.gates.set(group, gate);
    const before = gate.tail;
    let done!: () => void;
    gate.tail = new Promise<void>((resolve) => (done = resolve));
    gate.users++;
    const finish = () => {
      done();
      if (--gate.users === 0 && this.gates.get(group) === gate) this.gates.delete(group);
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ADMIT_QUEUE_MS)));
    if ((await Promise.race([before.then(() => 'turn' as const), late])) === 'late') {
      // Gives its place up; those after it still wait for the ones before.
      void before.then(finish);
      return undefined;
    }
    clearTimeout(timer);
    try {
      return await task();
    } finally {
      finish();
    }
  }

  private async renew(): Promise<void> {
    const byGroup = new Map<string, string[]>();
    for (const [id, group] of this.leases) byGroup.set(group, [...(byGroup.get(group) ?? []), id]);
    for (const [group, ids] of byGroup) await this.redis.paceRenew(`${this.base}:c:${group}`, LEASE_MS, ...ids);
  }
}
