import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedisServer, type PrivateRedisServer } from '../../src/redis/private-redis-server.ts';
import { ReplicaWait } from '../../src/redis/replica-wait.ts';
import { ask } from '../helpers/redis-topologies.ts';

const servers: PrivateRedisServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const server of servers.splice(0).reverse()) await server.stop();
});

async function primaryWithReplica(): Promise<{ primary: PrivateRedisServer; replica: PrivateRedisServer }> {
  const primary = await startPrivateRedisServer({ args: ['--repl-diskless-sync-delay', '0'] });
  servers.push(primary);
  const replica = await startPrivateRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  servers.push(replica);
  await expect.poll(async () => /master_link_status:up/.test(String(await ask(replica.port, 'INFO', 'replication'))), { timeout: 10_000 }).toBe(true);
  return { primary, replica };
}

/** How many WAITs the server ran. */
async function waits(server: PrivateRedisServer): Promise<number> {
  return Number(/^cmdstat_wait:calls=(\d+)/m.exec(String(await ask(server.port, 'INFO', 'commandstats')))?.[1] ?? 0);
}

/** Connected (its first 'ready' is behind it, as for the app's clients, which connect before use). */
const connect = async (server: PrivateRedisServer) => {
  const client = new Redis(server.url, { enableAutoPipelining: true, lazyConnect: true });
  clients.push(client);
  await client.connect();
  return client;
};

describe('ReplicaWait', () => {
  it('makes the writes of one tick wait for the replica with one WAIT, and the replica has every one of them', async () => {
    const { primary, replica } = await primaryWithReplica();
    const client = await connect(primary);
    const wait = new ReplicaWait({ client, replicas: 1, timeoutMs: 1_000 });
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await client.hset('p:c:{c:1}:sending', String(i), '1');
        await wait.after('p:c:{c:1}:sending');
      }),
    );
    expect(await waits(primary)).toBe(1);
    // Read at once, no polling: the WAIT returned only once the replica had them.
    expect(await ask(replica.port, 'HLEN', 'p:c:{c:1}:sending')).toBe(50);
  });

  it('while a WAIT is out, every caller meanwhile, over many ticks, shares the next one', async () => {
    const { primary, replica } = await primaryWithReplica();
    const client = await connect(primary);
    const wait = new ReplicaWait({ client, replicas: 1, timeoutMs: 5_000 });
    await wait.after('k');
    const before = await waits(primary);
    // The replica stops answering: the first WAIT stays out while 20 more callers come, each in a
    // tick of its own. (Their writes would have to come before it: a WAIT holds its connection.)
    const pid = Number(/^process_id:(\d+)/m.exec(String(await ask(replica.port, 'INFO', 'server')))?.[1]);
    process.kill(pid, 'SIGSTOP');
    const calls: Promise<void>[] = [];
    try {
      await client.set('k', '0');
      calls.push(wait.after('k'));
      for (let i = 1; i <= 20; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        calls.push(wait.after('k'));
      }
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await Promise.all(calls);
    expect((await waits(primary)) - before).toBe(2);
    expect(await ask(replica.port, 'GET', 'k')).toBe('0');
  });

  it('sends no WAIT where there is no replica, or when REDIS_WAIT_REPLICAS=0', async () => {
    const alone = await startPrivateRedisServer();
    servers.push(alone);
    await new ReplicaWait({ client: await connect(alone), replicas: 1, timeoutMs: 1_000 }).after('k');
    expect(await waits(alone)).toBe(0);
    const { primary } = await primaryWithReplica();
    await new ReplicaWait({ client: await connect(primary), replicas: 0, timeoutMs: 1_000 }).after('k');
    expect(await waits(primary)).toBe(0);
  });

  it('refuses a write no replica confirmed within the timeout, says so, then waits no more once the primary reports no replica', async () => {
    const { primary, replica } = await primaryWithReplica();
    const client = await connect(primary);
    const shortfalls: string[] = [];
    const wait = new ReplicaWait({ client, replicas: 1, timeoutMs: 300, onShortfall: (node) => shortfalls.push(node) });
    await wait.after('k');
    await replica.stop();
    await expect.poll(async () => /connected_slaves:0/.test(String(await ask(primary.port, 'INFO', 'replication'))), { timeout: 10_000 }).toBe(true);
    await client.set('k', 'v');
    // It still believes in the replica: one WAIT, which times out, and the write is not to be trusted.
    const started = Date.now();
    await expect(wait.after('k')).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE', message: expect.stringContaining('no replica confirmed the write') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(shortfalls).toEqual([`127.0.0.1:${primary.port}`]);
    // Asked again: the primary has no replica now, so there is nothing to wait for (the promise of one Redis).
    const before = await waits(primary);
    await wait.after('k');
    await wait.after('k');
    expect(await waits(primary)).toBe(before);
  });

  it('refuses a write when the connection was lost before the WAIT was answered: a WAIT on the next connection says nothing of it', async () => {
    const { primary } = await primaryWithReplica();
    const client = await connect(primary);
    const wait = new ReplicaWait({ client, replicas: 1, timeoutMs: 1_000 });
    await wait.after('k');
    await client.set('k', 'v');
    const pending = wait.after('k');
    client.disconnect(true);
    await expect(pending).rejects.toBeDefined();
    await client.set('k', 'w');
    await wait.after('k');
  });
});
