/**
 * A client of the app's Redis, whatever the deployment: one server or Sentinel (an ioredis
 * `Redis`) or a Cluster (an ioredis `Cluster`). The stores use only what both have: commands,
 * scripts (defineCommand), pipelines and transactions whose keys share one slot.
 */
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** Waits, where replicas exist, until a replica holds what this process wrote to the node holding `key` (replica-wait.ts). */
export interface ReplicaAck {
  after(key: string): Promise<void>;
}
