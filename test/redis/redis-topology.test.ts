import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { isNewsletterError } from '../../src/errors.ts';
import { hashTagOf, keySlot } from '../../src/redis/key-slot.ts';
import { describeTopology, parseRedisTopology } from '../../src/redis/redis-topology.ts';
import { REPO } from '../helpers/run-cli.ts';

describe('parseRedisTopology', () => {
  it('reads one server from redis:// and rediss:// with an ACL user', () => {
    expect(parseRedisTopology({ url: 'rediss://app:s%3Acret@redis.example:6380/2' })).toEqual({
      kind: 'single',
      url: 'rediss://app:s%3Acret@redis.example:6380/2',
      username: 'app',
      password: 's:cret',
      tls: true,
    });
  });

  it('reads Sentinel from the URL form and from REDIS_SENTINELS + REDIS_SENTINEL_NAME alike', () => {
    const fromUrl = parseRedisTopology({ url: 'rediss+sentinel://:pw@10.0.0.1:26379,[::1]:26380/mymaster', sentinelPassword: 'sp' });
    expect(fromUrl).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      username: undefined,
      password: 'pw',
      tls: true,
      sentinelPassword: 'sp',
      db: 0,
    });
    const fromSettings = parseRedisTopology({
      url: 'rediss://:pw@ignored:1',
      sentinels: '10.0.0.1:26379,[::1]:26380',
      sentinelName: 'mymaster',
      sentinelPassword: 'sp',
    });
    expect(fromSettings).toEqual(fromUrl);
  });

  it('reads Cluster from the URL form and from REDIS_CLUSTER_NODES alike', () => {
    const fromUrl = parseRedisTopology({ url: 'redis+cluster://user:pw@a.example:7000,b.example:7001' });
    expect(fromUrl).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a.example', port: 7000 },
        { host: 'b.example', port: 7001 },
      ],
      username: 'user',
      password: 'pw',
      tls: false,
    });
    expect(parseRedisTopology({ url: 'redis://user:pw@x:1', clusterNodes: 'a.example:7000, b.example:7001' })).toEqual(fromUrl);
    expect(describeTopology(fromUrl)).toBe('Cluster a.example:7000,b.example:7001');
  });

  it('names the setting that is wrong', () => {
    const fieldOf = (settings: Parameters<typeof parseRedisTopology>[0]) => {
      try {
        parseRedisTopology(settings);
      } catch (error) {
        return (error as { field: string }).field;
      }
      return 'no error';
    };
    expect(fieldOf({ url: 'redis+sentinel://h:26379' })).toBe('REDIS_SENTINEL_NAME');
    expect(fieldOf({ url: 'redis://h:1', sentinels: 'h' })).toBe('REDIS_SENTINELS');
    expect(fieldOf({ url: 'redis://h:1', clusterNodes: 'h:99999' })).toBe('REDIS_CLUSTER_NODES');
    expect(fieldOf({ url: 'redis://h:1', clusterNodes: 'h:1', sentinels: 'h:2' })).toBe('REDIS_CLUSTER_NODES');
    expect(fieldOf({ url: 'http://h:1' })).toBe('REDIS_URL');
  });

  it('reaches the Config, and a wrong setting is a CONFIG_INVALID naming it', () => {
    const config = loadConfig({ cwd: REPO, env: { REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_WAIT_REPLICAS: '0' } });
    expect(config.redis.topology.kind).toBe('cluster');
    expect(config.redis.wait).toEqual({ replicas: 0, timeoutMs: 1_000 });
    let thrown: unknown;
    try {
      loadConfig({ cwd: REPO, env: { REDIS_SENTINELS: '127.0.0.1:26379' } });
    } catch (error) {
      thrown = error;
    }
    expect(isNewsletterError(thrown) && thrown.code).toBe('CONFIG_INVALID');
    expect(isNewsletterError(thrown) && thrown.location.field).toBe('REDIS_SENTINEL_NAME');
  });
});

describe('keySlot', () => {
  it("computes Redis Cluster's slots (values from CLUSTER KEYSLOT), from the hash tag when there is one", () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('123456789')).toBe(12739);
    expect(keySlot('newsletter:c:{c:abc}:ledger')).toBe(keySlot('c:abc'));
    expect(hashTagOf('a{}b{c}')).toBe('a{}b{c}');
    expect(hashTagOf('p:{p}:sub:{x}')).toBe('p');
  });
});
