/**
 * The one place that turns the configured deployment into ioredis clients: a plain `Redis`
 * for one server, ioredis's own Sentinel client (it asks the sentinels for the current
 * primary and follows a failover), or ioredis's `Cluster` (it follows MOVED/ASK and a
 * replica's promotion). Adapter.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { keySlot } from './key-slot.ts';
import type { RedisClient } from './redis-client.ts';
import type { RedisTopology } from './redis-topology.ts';

/**
 * - `main`: the app's commands; a command fails after 3 reconnect attempts, so a request is
 *   answered rather than hanging.
 * - `blocking`: BullMQ's workers block on it and need maxRetriesPerRequest: null.
 * - `pipelined`: many deliveries in flight share round trips. Never BullMQ's own connection.
 */
export type ConnectionRole = 'main' | 'blocking' | 'pipelined';

function roleOptions(role: ConnectionRole): RedisOptions {
  if (role === 'blocking') return { maxRetriesPerRequest: null };
  if (role === 'pipelined') return { maxRetriesPerRequest: 3, enableAutoPipelining: true };
  return { maxRetriesPerRequest: 3 };
}

/** Rounds over every sentinel one connect makes (about 3 s with the pauses between them). */
const SENTINEL_ROUNDS = 5;

export interface OpenOptions {
  lazyConnect?: boolean;
}

export function openRedis(topology: RedisTopology, role: ConnectionRole, { lazyConnect = false }: OpenOptions = {}): RedisClient {
  const auth: RedisOptions = {
    ...(topology.username === undefined ? {} : { username: topology.username }),
    ...(topology.password === undefined ? {} : { password: topology.password }),
    ...(topology.tls ? { tls: {} } : {}),
  };
  const options = roleOptions(role);
  if (topology.kind === 'single') return new Redis(topology.url, { ...options, lazyConnect });
  if (topology.kind === 'sentinel') {
    return new Redis({
      ...options,
      ...auth,
      lazyConnect,
      sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
      name: topology.name,
      role: 'master',
      db: topology.db,
      ...(topology.sentinelPassword === undefined ? {} : { sentinelPassword: topology.sentinelPassword }),
      // Sentinels answer on TLS too when the data nodes do (the usual managed set-up).
      ...(topology.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      // After a failover the old primary may still answer, READONLY, as a replica: reconnect to the new one.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
      // Every sentinel unreachable or refusing (a wrong REDIS_SENTINEL_PASSWORD) a few rounds over:
      // this connect fails instead of asking again forever, so a process refuses to start, naming
      // the cause; a running client's own reconnects (retryStrategy) keep asking after that.
      sentinelRetryStrategy: (times) => (times > SENTINEL_ROUNDS ? null : Math.min(times * 200, 1_000)),
    });
  }
  const clusterOptions: ClusterOptions = {
    lazyConnect,
    enableReadyCheck: true,
    enableAutoPipelining: role === 'pipelined',
    // BullMQ's blocking connections must keep retrying through a failover rather than fail the call.
    ...(role === 'blocking' ? { maxRedirections: 64 } : {}),
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    redisOptions: { ...auth, maxRetriesPerRequest: options.maxRetriesPerRequest ?? null },
    // TLS certificates name the nodes' hosts, not the IPs the cluster reports.
    ...(topology.tls ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) } : {}),
  };
  return new Cluster(
    topology.nodes.map(({ host, port }) => ({ host, port })),
    clusterOptions,
  );
}

/** The nodes that take writes: every master of a Cluster, else the one client (Sentinel's is the current primary). */
export function primariesOf(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** The primary that holds `key` (a Cluster's master for its slot; else the one client); undefined while the Cluster's slot map is not known. */
export function primaryFor(client: RedisClient, key: string): Redis | undefined {
  if (!(client instanceof Cluster)) return client;
  const address = client.slots[keySlot(key)]?.[0];
  return client.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === address);
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}
