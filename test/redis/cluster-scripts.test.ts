/**
 * Every Lua script and every multi-key command of the app, run against a real Cluster: a script
 * or a transaction whose keys lie in two slots is refused (CROSSSLOT), so each one must be
 * named into one slot. The census at the end makes a script added to src/ without a call here
 * fail this test.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withCampaignScripts } from '../../src/campaign/campaign-scripts.ts';
import { ScheduleStore } from '../../src/campaign/schedule-store.ts';
import { ReturnedMailStore } from '../../src/inbound/returned-mail-store.ts';
import { keySlot } from '../../src/redis/key-slot.ts';
import { isCluster } from '../../src/redis/redis-connection.ts';
import { startFaultScenario, type FaultScenario } from '../faults/fault-harness.ts';
import { writeLayout1Subscribers } from '../helpers/layout-1.ts';
import { ask, startCluster, type ClusterSetup } from '../helpers/redis-topologies.ts';

/** Every script src/ defines, by the name it is called by. */
function scriptsInSource(dir = 'src'): Map<string, string> {
  const found = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const [, name] of text.matchAll(/defineCommand\('([A-Za-z]+)'/g)) found.set(name!, join(entry.parentPath, entry.name));
  }
  return found;
}

/** The SHA1s of the scripts sent (EVALSHA, or EVAL's body), through any client of this process, pipelines and transactions included. */
const sent = new Set<string>();
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
for (const Client of [Redis, Cluster]) {
  const original = Client.prototype.sendCommand as (this: unknown, command: { name: string; args: unknown[] }, ...rest: unknown[]) => unknown;
  Client.prototype.sendCommand = function (this: unknown, command: { name: string; args: unknown[] }, ...rest: unknown[]) {
    const name = command.name.toLowerCase();
    if (name === 'evalsha') sent.add(String(command.args[0]));
    if (name === 'eval') sent.add(sha1(String(command.args[0])));
    return original.call(this, command, ...rest);
  } as typeof Client.prototype.sendCommand;
}

let s: FaultScenario<ClusterSetup>;

beforeAll(async () => {
  s = await startFaultScenario({
    recipients: 30,
    redis: () => startCluster(),
    env: { SEND_RATE_PER_SECOND: '1000', DOMAIN_RATES: 'example.org=1000', DOMAIN_CONNECTIONS: 'example.org=5' },
  });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('on a real Redis Cluster', () => {
  it('runs every script and multi-key command of the app without CROSSSLOT', async () => {
    const { app } = s.harness;
    expect(isCluster(app.redis)).toBe(true);
    const clients = [app.redis];
    const connection = app.connection.bind(app);
    // The worker's own connection carries the ledger's and the pacing's scripts.
    app.connection = (kind) => {
      const client = connection(kind);
      clients.push(client);
      return client;
    };

    // Subscribers: writes, status changes, removal, soft bounces (a MULTI).
    const [first, second] = s.subscribers;
    await app.subscribers.unsubscribe(second!.id, 'test');
    await app.subscribers.softBounces.record(first!.id, 'c1', new Date().toISOString());
    await app.subscribers.softBounces.clear(first!.id);

    // A campaign: created, enqueued, sent by a worker of this process (ledger, rate limit, pacing, relay breaker).
    const worker = s.harness.startWorker();
    const { id } = await s.harness.send();
    await s.harness.waitFor((c) => c.state === 'completed', 30_000);
    await worker.stop();
    expect(await app.campaigns.require(id)).toMatchObject({ total: 30, accepted: 29, skipped: 1 });
    // The ledger's writes waited for a replica, on the master that holds the campaign's slot.
    const holder = await s.redis.masterOf(keySlot(app.campaigns.keys(id).ledger));
    expect(Number(/^cmdstat_wait:calls=(\d+)/m.exec(String(await ask(holder.port, 'INFO', 'commandstats')))?.[1] ?? 0)).toBeGreaterThan(0);

    // What the worker does only on trouble, and what the CLI and inbound do.
    await app.relay.failure('421 test');
    await app.relay.success();
    // A lease held, renewed (on a timer in a worker; called here), given back.
    const admission = await app.pace.admit('example.org');
    expect(admission.go).toBe(true);
    await (app.pace as unknown as { renew(): Promise<void> }).renew();
    if (admission.go) admission.release();
    await app.pace.throttled('example.org', '421 4.7.0 try later', 100);
    await app.pace.read();
    await app.campaigns.resetFailed(id, [first!.id]);
    await withCampaignScripts(app.redis).campaignUnmark(app.campaigns.keys(id).sending, first!.id, '1');
    await app.campaigns.recordReturned(id, first!.id, { kind: 'hard', status: '5.1.1', detail: 'no such user' } as never);
    const returned = new ReturnedMailStore({ redis: app.redis, prefix: s.harness.prefix });
    await returned.markCounted('m1', new Date());
    await returned.keepUnmatched({ id: 'm2' } as never, new Uint8Array([65]), new Date());
    const schedule = new ScheduleStore({ redis: app.redis, prefix: s.harness.prefix });
    await expect(schedule.schedule(id, new Date(Date.now() + 60_000))).rejects.toMatchObject({ code: 'CAMPAIGN_STATE_INVALID' });
    await expect(schedule.unschedule(id)).rejects.toMatchObject({ code: 'CAMPAIGN_STATE_INVALID' });
    await schedule.claim(id, new Date(), 1_000);
    await app.fleetMetrics().flush();
    expect(await app.subscribers.remove(second!.id)).toBe(true);
    // A store still in layout 1: read by its old id, then moved.
    const at = new Date().toISOString();
    const old = {
      id: 'q3Zx_9-kLm0PaB7w',
      email: 'old@example.org',
      lists: ['weekly'],
      status: 'active',
      attributes: {},
      createdAt: at,
      updatedAt: at,
      history: [],
    } as const;
    await writeLayout1Subscribers(app.redis, s.harness.prefix, [{ ...old, lists: [...old.lists], history: [] }]);
    expect((await app.subscribers.get(old.id))?.email).toBe(old.email);
    expect(await app.subscribers.migrateLayout()).toMatchObject({ moved: 1, left: 0 });
    expect((await app.subscribers.get(old.id))?.email).toBe(old.email);

    // Census: every script of src/ was sent, on one of these clients.
    const shaOf = new Map<string, string>();
    for (const client of clients)
      for (const [name, script] of Object.entries((client as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet))
        shaOf.set(name, script.sha);
    const notRun = [...scriptsInSource()].filter(([name]) => !sent.has(shaOf.get(name) ?? '')).map(([name, file]) => `${name} (${file})`);
    expect(notRun).toEqual([]);
  }, 90_000);

  it('checks every master at start: one with an evicting maxmemory-policy is refused, by its address', async () => {
    const master = await s.redis.masterOf(keySlot('any-key'));
    await ask(master.port, 'CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      await expect(s.harness.newApp()).rejects.toMatchObject({
        code: 'REDIS_UNSAFE',
        message: expect.stringContaining(`127.0.0.1:${master.port}: Redis maxmemory-policy is "allkeys-lru"`),
      });
    } finally {
      await ask(master.port, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    }
    await expect(s.harness.newApp()).resolves.toBeDefined();
  });
});
