/**
 * Makes a write survive a failover: Redis replicates asynchronously, so a primary that dies
 * after acknowledging a write, before a replica has it, takes the write with it. `WAIT 1 <ms>`
 * on the connection that wrote blocks until a replica has every write that connection sent.
 *
 * Batched: every caller in one tick of the event loop (the "sending" marks of all the
 * deliveries in flight, say), and every caller while a WAIT is out, shares the next WAIT to
 * that primary, since one WAIT covers all the connection's earlier writes. Skipped where there is nothing to wait for: no replica
 * attached (INFO replication, re-read every few seconds, and at once after a WAIT that timed
 * out, e.g. a new primary whose old peer is gone), or REDIS_WAIT_REPLICAS=0. Adapter.
 */
import type { Redis } from 'ioredis';
import type { RedisClient } from './redis-client.ts';
import { primaryFor } from './redis-connection.ts';
import { NewsletterError } from '../errors.ts';

export interface ReplicaWaitOptions {
  client: RedisClient;
  /** 0: never wait (the settings turned it off). */
  replicas: 0 | 1;
  timeoutMs: number;
  /** A WAIT that ended before a replica had the writes: its callers are refused, and told so. */
  onShortfall?: (node: string) => void;
  /** How long a node's replica count is trusted (default 5 s). */
  recheckMs?: number;
}

interface NodeState {
  /** connected_slaves when last read, and when. */
  replicas: number;
  readAt: number;
  /** Counts the node's connections: a WAIT covers only the writes of the connection it is answered on. */
  connection: number;
  /** The WAIT not sent yet that callers join; it resolves with the connection it was answered on. */
  pending: Promise<number> | undefined;
  /** The WAIT sent, not answered yet. */
  inFlight: Promise<number> | undefined;
}

export class ReplicaWait {
  private readonly nodes = new WeakMap<Redis, NodeState>();
  private readonly recheckMs: number;

  constructor(private readonly options: ReplicaWaitOptions) {
    this.recheckMs = options.recheckMs ?? 5_000;
  }

  /**
   * Resolves once the writes this client sent to the node holding `key` reached a replica, or at
   * once when there is none to wait for. Rejects (REDIS_UNAVAILABLE) when no replica confirmed them
   * within the timeout, or the connection was lost meanwhile (a WAIT on the next one, maybe to a
   * promoted replica, says nothing of them): the write may be lost at failover, so it must not be
   * acted on. The caller retries; once the primary reports no replica, nothing is waited for.
   */
  async after(key: string): Promise<void> {
    if (this.options.replicas === 0) return;
    const node = primaryFor(this.options.client, key);
    if (!node) return;
    const state = this.stateOf(node);
    const connection = state.connection;
    if (Date.now() - state.readAt > this.recheckMs) await this.readReplicas(node, state);
    if (state.replicas < this.options.replicas) return;
    state.pending ??= this.nextWait(node, state);
    const answeredOn = await state.pending;
    if (answeredOn !== connection) throw this.unconfirmed(node, 'the connection was lost before a replica confirmed the write');
  }

  private stateOf(node: Redis): NodeState {
    let state = this.nodes.get(node);
    if (!state) {
      const fresh: NodeState = { replicas: 0, readAt: 0, connection: 0, pending: undefined, inFlight: undefined };
      // A reconnect may be to another server (Sentinel's promoted replica): count its replicas afresh.
      node.on('close', () => {
        fresh.connection++;
        fresh.readAt = 0;
      });
      this.nodes.set(node, (state = fresh));
    }
    return state;
  }

  private async readReplicas(node: Redis, state: NodeState): Promise<void> {
    state.readAt = Date.now();
    const info = await node.info('replication');
    state.replicas = Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
  }

  private unconfirmed(node: Redis, why: string): NewsletterError {
    return new NewsletterError('REDIS_UNAVAILABLE', `Redis ${node.options.host}:${node.options.port}: ${why}`, { field: 'REDIS_WAIT_TIMEOUT_MS' });
  }

  /**
   * The next WAIT: sent on the next tick, or once the one in flight is answered (a WAIT sent
   * behind it would wait on the same connection anyway), so under load every caller meanwhile
   * shares it: at most one WAIT in flight and one gathering per primary.
   */
  private nextWait(node: Redis, state: NodeState): Promise<number> {
    const previous = state.inFlight ?? new Promise<void>((resolve) => setImmediate(resolve));
    const wait: Promise<number> = previous
      .catch(() => {})
      .then(async () => {
        state.pending = undefined;
        state.inFlight = wait;
        const connection = state.connection;
        try {
          const acked = Number(await node.call('WAIT', String(this.options.replicas), String(this.options.timeoutMs)));
          if (state.connection !== connection) return -1;
          if (acked < this.options.replicas) {
            state.readAt = 0;
            this.options.onShortfall?.(`${node.options.host}:${node.options.port}`);
            throw this.unconfirmed(node, `no replica confirmed the write within REDIS_WAIT_TIMEOUT_MS (${this.options.timeoutMs} ms)`);
          }
          return connection;
        } finally {
          if (state.inFlight === wait) state.inFlight = undefined;
        }
      });
    return wait;
  }
}
