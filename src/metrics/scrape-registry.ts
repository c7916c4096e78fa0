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

/** What the gauges read of a receiving group being paced (delivery/domain-pace.ts's GroupPace, with this fleet's waiting recipients). */
interface DomainPaceState {
  group: string;
  state: 'paused' | 'slow-start';
  until: string;
  pausedForMs: number;
  share: number;
  reason: string;
  waiting: number;
}

export interface ScrapeSources {
  /** Receiving groups paused or resuming slowly, with the recipients of running campaigns waiting on each. */
  domains?(): Promise<DomainPaceState[]>;
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
  pace: { read(): Promise<Omit<DomainPaceState, 'waiting'>[]> };
  campaigns: { list(limit: number): Promise<{ id: string; state: string }[]>; groupWaits(id: string): Promise<Record<string, number>> };
}): ScrapeSources {
  return {
    async domains() {
      const paced = await app.pace.read();
      if (paced.length === 0) return [];
      const running = (await app.campaigns.list(50)).filter((c) => c.state === 'running');
      const waits = await Promise.all(running.map((c) => app.campaigns.groupWaits(c.id)));
      return paced.map((p) => ({ ...p, waiting: waits.reduce((sum, w) => sum + (w[p.group] ?? 0), 0) }));
    },
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
  // One read of the paced groups per scrape, shared by their gauges; a group appears while paced and disappears once back at full pace.
  let domains: Promise<DomainPaceState[]> | undefined;
  const readDomains = () => (domains ??= (sources.domains?.() ?? Promise.resolve([])).finally(() => (domains = undefined)));
  const domainGauge = (name: string, help: string, labelNames: string[], values: (d: DomainPaceState) => [Record<string, string>, number][]) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const d of await readDomains()) for (const [labels, value] of values(d)) this.set(labels, value);
      },
    });
  domainGauge(
    'newsletter_domain_paused',
    'Receiving groups (or domains) paused for the whole fleet after a throttling reply (1), or resuming slowly (0)',
    ['group'],
    (d) => [[{ group: d.group }, d.state === 'paused' ? 1 : 0]],
  );
  domainGauge('newsletter_domain_paused_until_seconds', "When the group's pause ends (Unix time, seconds)", ['group'], (d) => [
    [{ group: d.group }, Date.parse(d.until) / 1000],
  ]);
  domainGauge('newsletter_domain_pace_share', "The share of the group's rate allowed now (0 while paused, climbing to 1 after)", ['group'], (d) => [
    [{ group: d.group }, d.share],
  ]);
  domainGauge('newsletter_domain_waiting_recipients', "Recipients of running campaigns waiting for the group's pause", ['group'], (d) => [
    [{ group: d.group }, d.waiting],
  ]);
  domainGauge('newsletter_domain_pause_info', 'Why the group was paused: the throttling reply (value 1)', ['group', 'reason'], (d) => [
    [{ group: d.group, reason: d.reason.slice(0, 200) }, 1],
  ]);
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
