/**
 * The Redis deployments operators run, made of private redis-servers on free ports (never the
 * shared Redis): a primary with a replica behind three sentinels, and a Cluster of three
 * primaries with a replica each. Each is ready once it would take the app's writes, and
 * stop() kills every process and removes every folder.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { startTcpProxy } from './tcp-proxy.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, redisAnswers, startPrivateRedisServer, type PrivateRedisServer } from '../../src/redis/private-redis-server.ts';

const run = promisify(execFile);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One command on a short-lived connection to 127.0.0.1:port (`{ port, password }` for a server that asks for one). */
export async function ask(to: number | { port: number; password?: string | undefined }, ...command: string[]): Promise<unknown> {
  const { port, password } = typeof to === 'number' ? { port: to, password: undefined } : to;
  const client = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return await client.call(command[0]!, ...command.slice(1));
  } finally {
    client.disconnect();
  }
}

const field = (info: unknown, name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(String(info))?.[1]?.trim();

interface Sentinel {
  port: number;
  /** What the sentinel asks its clients for (requirepass), if anything. */
  password: string | undefined;
  stop(): Promise<void>;
}

async function startSentinel(primaryPort: number, name: string, requirepass: string | undefined): Promise<Sentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'newsletter-sentinel-'));
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 10000`,
      `sentinel parallel-syncs ${name} 1`,
      // The sentinels ask each other for the same password.
      ...(requirepass === undefined ? [] : [`requirepass ${requirepass}`, `sentinel sentinel-pass ${requirepass}`]),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const auth = requirepass === undefined ? '' : `:${encodeURIComponent(requirepass)}@`;
  await until(`sentinel on ${port}`, async () => ((await redisAnswers(`redis://${auth}127.0.0.1:${port}`)) ? true : undefined), 10_000);
  return {
    port,
    password: requirepass,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The primary's address for everyone (clients, sentinels, the replica), through a proxy of the
 * test's: partition() drops, from then on, what the primary sends on its replication link (the
 * connection that asked for PSYNC), as a network that loses packets between the two would; every
 * other connection passes. The replica falls behind and nobody notices at once. (A proxy on the
 * replication link alone would be "fixed" by the sentinels, which repoint a replica that names
 * another primary than theirs.)
 */
export interface PrimaryProxy {
  readonly port: number;
  partition(): void;
  close(): Promise<void>;
}

async function startPrimaryProxy(primaryPort: number): Promise<PrimaryProxy> {
  let partitioned = false;
  const proxy = await startTcpProxy({ port: primaryPort }, ({ client, upstream: primary }) => {
    let replication = false;
    client.on('data', (chunk: Buffer) => {
      replication ||= /\bP?SYNC\b/i.test(chunk.toString('latin1'));
      primary.write(chunk);
    });
    primary.on('data', (chunk: Buffer) => {
      if (!(partitioned && replication)) client.write(chunk);
    });
  });
  return {
    port: proxy.port,
    partition() {
      partitioned = true;
    },
    close: () => proxy.close(),
  };
}

export interface SentinelSetup {
  readonly name: string;
  primary: PrivateRedisServer;
  replica: PrivateRedisServer;
  /** Where everyone reaches the first primary, through a proxy the test can partition from its replica. */
  readonly link: PrimaryProxy;
  readonly sentinels: readonly Sentinel[];
  /** REDIS_URL for the app: redis+sentinel://127.0.0.1:p1,.../name */
  readonly url: string;
  /** The port of the primary the sentinels name now. */
  currentPrimaryPort(): Promise<number>;
  stop(): Promise<void>;
}

export interface SentinelSetupOptions {
  /** A password on the sentinels themselves (requirepass): clients give it as REDIS_SENTINEL_PASSWORD. */
  sentinelPassword?: string;
}

/** 1 primary, 1 replica (in sync), 3 sentinels that agree on them. */
export async function startSentinelSetup(name = 'newsletter', { sentinelPassword }: SentinelSetupOptions = {}): Promise<SentinelSetup> {
  const primary = await startPrivateRedisServer({ appendfsync: 'everysec', args: ['--repl-diskless-sync-delay', '0'] });
  const link = await startPrimaryProxy(primary.port);
  const replica = await startPrivateRedisServer({
    appendfsync: 'everysec',
    args: ['--repl-diskless-sync-delay', '0', '--replicaof', '127.0.0.1', String(link.port)],
  });
  const sentinels: Sentinel[] = [];
  const stop = async () => {
    for (const sentinel of sentinels) await sentinel.stop();
    await replica.stop();
    await link.close();
    await primary.stop();
  };
  try {
    await until('replica in sync', async () => (field(await ask(replica.port, 'INFO', 'replication'), 'master_link_status') === 'up' ? true : undefined));
    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(link.port, name, sentinelPassword));
    // Each sentinel must know the replica and the other sentinels before a failover can be agreed.
    await until('sentinels agree', async () => {
      for (const sentinel of sentinels) {
        const [master] = (await ask(sentinel, 'SENTINEL', 'MASTERS')) as string[][];
        const info = Object.fromEntries(Array.from({ length: master!.length / 2 }, (_, i) => [master![2 * i], master![2 * i + 1]]));
        if (Number(info['num-slaves']) < 1 || Number(info['num-other-sentinels']) < 2) return undefined;
      }
      return true;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name,
    primary,
    replica,
    link,
    sentinels,
    url: `redis+sentinel://${sentinels.map(({ port }) => `127.0.0.1:${port}`).join(',')}/${name}`,
    async currentPrimaryPort() {
      const [, port] = (await ask(sentinels[0]!, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as string[];
      return Number(port);
    },
    stop,
  };
}

export interface ClusterSetup {
  /** Every node, primaries and replicas, as started. */
  readonly nodes: readonly PrivateRedisServer[];
  /** REDIS_URL for the app: redis+cluster://127.0.0.1:p1,... */
  readonly url: string;
  /** The node serving `slot` as a master now. */
  masterOf(slot: number): Promise<PrivateRedisServer>;
  stop(): Promise<void>;
}

/** TLS for the Cluster's nodes, replication and bus: their certificate and the authority that signed it (files). */
export interface ClusterTls {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/**
 * 3 primaries with a replica each, through `redis-cli --cluster create`, ready once every node
 * reports the cluster ok. With `tls`, clients, replication and the cluster bus speak TLS on ports
 * of their own (the URL names them), beside the plain ports the helpers use.
 */
export async function startCluster({ tls }: { tls?: ClusterTls } = {}): Promise<ClusterSetup> {
  const nodes: PrivateRedisServer[] = [];
  const tlsPorts: number[] = [];
  const stop = async () => {
    for (const node of nodes) await node.stop();
  };
  try {
    for (let i = 0; i < 6; i++) {
      // With TLS the bus listens 10000 above the TLS port, without it 10000 above the port (past
      // 65535 for a high one): named here instead, and chosen again with the other ports on a retry.
      const portArgs = async () => {
        const busPort = await freePort();
        if (!tls) return ['--cluster-port', String(busPort)];
        tlsPorts[i] = await freePort();
        return ['--cluster-port', String(busPort), '--tls-port', String(tlsPorts[i])];
      };
      const tlsArgs = tls
        ? [
            '--tls-cert-file',
            tls.certFile,
            '--tls-key-file',
            tls.keyFile,
            '--tls-ca-cert-file',
            tls.caFile,
            '--tls-cluster',
            'yes',
            '--tls-replication',
            'yes',
            '--tls-auth-clients',
            'no',
          ]
        : [];
      nodes.push(
        await startPrivateRedisServer({
          appendfsync: 'everysec',
          portArgs,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '1000',
            '--repl-diskless-sync-delay',
            '0',
            ...tlsArgs,
          ],
        }),
      );
    }
    const addresses = (tls ? tlsPorts : nodes.map(({ port }) => port)).map((port) => `127.0.0.1:${port}`);
    await run('redis-cli', [
      ...(tls ? ['--tls', '--cacert', tls.caFile] : []),
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    await until('cluster ok on every node', async () => {
      for (const { port } of nodes) if (field(await ask(port, 'CLUSTER', 'INFO'), 'cluster_state') !== 'ok') return undefined;
      // Every master has its replica attached, so a failover has somewhere to go.
      let synced = 0;
      for (const { port } of nodes) if (field(await ask(port, 'INFO', 'replication'), 'master_link_status') === 'up') synced++;
      return synced === 3 ? true : undefined;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes,
    url: tls
      ? `rediss+cluster://${tlsPorts.map((port) => `127.0.0.1:${port}`).join(',')}`
      : `redis+cluster://${nodes.map(({ port }) => `127.0.0.1:${port}`).join(',')}`,
    async masterOf(slot) {
      for (const node of nodes) {
        const ranges = (await ask(node.port, 'CLUSTER', 'SLOTS').catch(() => [])) as [number, number, [string, number]][];
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        if (range) return nodes.find(({ port }) => port === Number(range[2][1]))!;
      }
      throw new Error(`no node serves slot ${slot}`);
    },
    stop,
  };
}
