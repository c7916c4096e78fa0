/**
 * Which Redis deployment the settings describe: one server, a primary with replicas behind
 * Sentinel, or a Cluster. Pure: config.ts reads the environment and hands the values here;
 * redis-connection.ts turns the result into ioredis clients.
 *
 * URL forms (credentials and TLS ride in the URL, as for one server):
 *   redis://[user:pass@]host:port[/db]                       one server (rediss:// for TLS)
 *   redis+sentinel://[user:pass@]h1:26379,h2:26379/mymaster  Sentinel (rediss+sentinel:// for TLS)
 *   redis+cluster://[user:pass@]h1:7000,h2:7001              Cluster (rediss+cluster:// for TLS)
 * or REDIS_SENTINELS + REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES, with the credentials and
 * TLS taken from REDIS_URL's user, password and scheme.
 */

export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

interface Credentials {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
}

export type RedisTopology =
  | (Credentials & { readonly kind: 'single'; readonly url: string })
  | (Credentials & {
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisNodeAddress[];
      readonly name: string;
      /** Sentinels protected by their own `requirepass`; unset: they take the data nodes' password, or none. */
      readonly sentinelPassword: string | undefined;
      readonly db: number;
    })
  | (Credentials & { readonly kind: 'cluster'; readonly nodes: readonly RedisNodeAddress[] });

export interface RedisTopologySettings {
  url: string;
  sentinels?: string | undefined;
  sentinelName?: string | undefined;
  sentinelPassword?: string | undefined;
  clusterNodes?: string | undefined;
}

/** What was wrong, naming the setting. */
export class RedisTopologyError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `host:port,host:port`, IPv6 in brackets. */
export function parseNodeList(text: string, field: string): RedisNodeAddress[] {
  const nodes = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = ADDRESS.exec(part);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65_535) throw new RedisTopologyError(field, `"${part}" is not host:port (a list like 10.0.0.1:26379,10.0.0.2:26379)`);
      return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
    });
  if (nodes.length === 0) throw new RedisTopologyError(field, 'needs at least one host:port');
  return nodes;
}

const SCHEME = /^(rediss?)(\+(sentinel|cluster))?:\/\/(?:([^@/]*)@)?([^/?#]*)(\/[^?#]*)?$/;

function credentialsOf(userinfo: string | undefined, scheme: string): Credentials {
  const [user, ...rest] = (userinfo ?? '').split(':');
  const password = rest.join(':');
  return {
    username: user ? decodeURIComponent(user) : undefined,
    password: password ? decodeURIComponent(password) : undefined,
    tls: scheme === 'rediss',
  };
}

export function parseRedisTopology(settings: RedisTopologySettings): RedisTopology {
  const match = SCHEME.exec(settings.url);
  if (!match) throw new RedisTopologyError('REDIS_URL', 'a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL');
  const [, scheme, , form, userinfo, hosts, path] = match as unknown as [
    string,
    string,
    string,
    string | undefined,
    string | undefined,
    string,
    string | undefined,
  ];
  const credentials = credentialsOf(userinfo, scheme);
  const name = decodeURIComponent((path ?? '').replace(/^\//, ''));
  if (settings.sentinels !== undefined && settings.clusterNodes !== undefined)
    throw new RedisTopologyError('REDIS_CLUSTER_NODES', 'set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both');
  if (settings.sentinels !== undefined || form === 'sentinel') {
    const sentinels = parseNodeList(settings.sentinels ?? hosts, settings.sentinels === undefined ? 'REDIS_URL' : 'REDIS_SENTINELS');
    const masterName = settings.sentinelName ?? (form === 'sentinel' ? name : undefined);
    if (!masterName) throw new RedisTopologyError('REDIS_SENTINEL_NAME', 'the name Sentinel knows the primary by (sentinel monitor <name> ...), e.g. mymaster');
    const db = form === 'sentinel' ? 0 : Number(name || 0);
    return { kind: 'sentinel', ...credentials, sentinels, name: masterName, sentinelPassword: settings.sentinelPassword, db };
  }
  if (settings.clusterNodes !== undefined || form === 'cluster') {
    const nodes = parseNodeList(settings.clusterNodes ?? hosts, settings.clusterNodes === undefined ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES');
    return { kind: 'cluster', ...credentials, nodes };
  }
  if (!hosts) throw new RedisTopologyError('REDIS_URL', 'a redis:// or rediss:// URL with a host, e.g. redis://127.0.0.1:6379');
  return { kind: 'single', ...credentials, url: settings.url };
}

/** The deployment in words, without its password: for messages. */
export function describeTopology(topology: RedisTopology): string {
  const list = (nodes: readonly RedisNodeAddress[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  if (topology.kind === 'sentinel') return `Sentinel ${list(topology.sentinels)} (primary "${topology.name}")`;
  if (topology.kind === 'cluster') return `Cluster ${list(topology.nodes)}`;
  return topology.url.replace(/\/\/([^@/]*)@/, '//***@');
}
