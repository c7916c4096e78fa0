import { existsSync, readdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, redisAnswers, startPrivateRedisServer, type PrivateRedisServer } from '../../src/redis/private-redis-server.ts';
import { spawnNode } from '../helpers/run-cli.ts';

let server: PrivateRedisServer | undefined;
let client: Redis | undefined;
afterEach(async () => {
  client?.disconnect();
  client = undefined;
  await server?.stop();
  server = undefined;
});

const connect = (url: string) => (client = new Redis(url, { maxRetriesPerRequest: 0 }));

describe('a private redis-server', () => {
  it('answers on a free port of 127.0.0.1 once started, keeps nothing on disk and never evicts; stop() kills it and removes its folder', async () => {
    server = await startPrivateRedisServer();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.port).not.toBe(6379);
    const redis = connect(server.url);
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await redis.config('GET', 'save')).toEqual(['save', '']);
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await redis.config('GET', 'dir')).toEqual(['dir', server.dir]);
    const { url, dir } = server;
    await server.stop();
    await server.stop();
    server = undefined;
    expect(await redisAnswers(url)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it('with an append-only file, keeps every acknowledged write across a kill and restart on the same port', async () => {
    server = await startPrivateRedisServer({ appendfsync: 'always' });
    const { url } = server;
    const before = connect(url);
    await before.set('kept', 'yes');
    before.disconnect();
    await server.restart();
    expect(server.url).toBe(url);
    expect(await connect(url).get('kept')).toBe('yes');
    expect(await client!.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    expect(readdirSync(server.dir)).toContain('appendonlydir');
  });

  it('takes more settings, which win over its defaults', async () => {
    server = await startPrivateRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    expect(await connect(server.url).config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
  });

  it('says why when redis-server refuses to start', async () => {
    await expect(startPrivateRedisServer({ args: ['--no-such-setting', 'x'] })).rejects.toThrow(/exited \(1\) before it was ready: [\s\S]*no-such-setting/);
  });

  it('is answering only when PING gets PONG: logging in first when the URL has a password, and never where nothing listens', async () => {
    server = await startPrivateRedisServer();
    expect(await redisAnswers(server.url)).toBe(true);
    await connect(server.url).config('SET', 'requirepass', 'p@ss word');
    const withPassword = `redis://:${encodeURIComponent('p@ss word')}@127.0.0.1:${server.port}`;
    expect(await redisAnswers(withPassword)).toBe(true);
    expect(await redisAnswers(`redis://default:${encodeURIComponent('p@ss word')}@127.0.0.1:${server.port}`)).toBe(true);
    expect(await redisAnswers(server.url)).toBe(false);
    expect(await redisAnswers(`redis://:wrong@127.0.0.1:${server.port}`)).toBe(false);
    expect(await redisAnswers(`redis://127.0.0.1:${await freePort()}`)).toBe(false);
  });

  it('does not outlive the process that started it', async () => {
    const run = await spawnNode(['bin/run-ts.js', 'test/redis/exit-with-private-redis.ts'], {});
    expect(run.code, run.stderr).toBe(0);
    const { url, dir } = JSON.parse(run.stdout) as { url: string; dir: string };
    expect(await redisAnswers(url)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
