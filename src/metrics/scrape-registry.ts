/**
 * The prom-client Registry behind GET /metrics, one per server (never prom-client's global
 * registry, so tests and several servers in one process don't collide). Everything is read
 * at scrape time: the fleet's counters from the Redis hash (one HGETALL shared by every
 * family), queue depth and connected workers from BullMQ, and this process's own metrics.
 */
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Gauge, Registry, type Metric, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { exposeFleet, type ExposedFamily } from './definitions.ts';

/** The states a delivery batch job can be in (BullMQ 6); completed jobs are removed at once. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** What the gauges read of the relay breaker's state (delivery/relay-breaker.ts's RelayState; declared here, since delivery imports metrics). */
interface RelayState {
  state: 'closed' | 'open' | 'half-open';
  pausedForMs: number;
  failures: number;
  pauses: number;
}

export interface ScrapeSources {
  /** The fleet metrics hash (FleetCounters.read). */
  readFleet(): Promise<Record<string, string>>;
  /** BullMQ's getJobCounts(...QUEUE_STATES) on the delivery queue. */
  queueCounts(): Promise<Partial<Record<string, number>>>;
  /** Worker connections on the delivery queue (BullMQ's getWorkersCount). */
  workerCount(): Promise<number>;
  /** The relay breaker's state (delivery/relay-breaker.ts). */
  relay(): Promise<RelayState>;
}

/** What a web server scrapes: the app's metrics hash (its own counts flushed first) and delivery queue. */
export function appScrapeSources(app: {
  fleetMetrics(): { read(): Promise<Record<string, string>> };
  deliveryQueue(): Queue;
  relay: { read(): Promise<RelayState> };
}): ScrapeSources {
  return {
    readFleet: () => app.fleetMetrics().read(),
    queueCounts: () => app.deliveryQueue().getJobCounts(...QUEUE_STATES),
    workerCount: () => app.deliveryQueue().getWorkersCount(),
    relay: () => app.relay.read(),
  };
}

/** A family whose values were computed elsewhere, in the shape prom-client's registry formats. */
function precomputed(family: ExposedFamily, read: () => Promise<ExposedFamily[]>): Metric {
  const metric = {
    name: family.name,
    help: family.help,
    type: family.type,
    aggregator: 'sum',
    async get(): Promise<MetricObjectWithValues<MetricValue<string>>> {
      const current = (await read()).find((f) => f.name === family.name) ?? family;
      return { ...current, aggregator: 'sum' } as unknown as MetricObjectWithValues<MetricValue<string>>;
    },
  };
  return metric as unknown as Metric;
}

export function createScrapeRegistry(sources: ScrapeSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // prom-client asks every metric at once; they share this scrape's one read of the hash.
  let reading: Promise<ExposedFamily[]> | undefined;
  const readFleet = () =>
    (reading ??= sources
      .readFleet()
      .then(exposeFleet)
      .finally(() => (reading = undefined)));
  for (const family of exposeFleet({})) registry.registerMetric(precomputed(family, readFleet));

  new Gauge({
    name: 'newsletter_queue_batches',
    help: 'Delivery batch jobs (up to 100 recipients each) by state: waiting and delayed are work not yet done, failed batches wait for campaign resume',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await sources.queueCounts();
      for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  // One read of the breaker per scrape, shared by its four gauges.
  let relay: Promise<RelayState> | undefined;
  const readRelay = () => (relay ??= sources.relay().finally(() => (relay = undefined)));
  const relayGauge = (name: string, help: string, value: (state: RelayState) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(value(await readRelay()));
      },
    });
  relayGauge('newsletter_relay_paused', 'Whether the relay breaker pauses sending for the whole fleet (1) or not (0)', (s) => (s.state === 'open' ? 1 : 0));
  relayGauge('newsletter_relay_pause_seconds', 'How much longer the current relay pause lasts', (s) => s.pausedForMs / 1000);
  relayGauge(
    'newsletter_relay_failures',
    'Relay failures in a row (no connection or greeting, timeout, dropped connection, TLS, login, 421)',
    (s) => s.failures,
  );
  relayGauge('newsletter_relay_pauses', 'How often the relay breaker has paused sending', (s) => s.pauses);
  new Gauge({
    name: 'newsletter_delivery_workers',
    help: 'Delivery worker processes connected to the queue, on every host',
    registers: [registry],
    async collect() {
      this.set(await sources.workerCount());
    },
  });
  return registry;
}
