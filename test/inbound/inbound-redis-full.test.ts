/**
 * `newsletter inbound` when Redis refuses writes (full under noeviction): the message is not
 * kept, so the relay must be told to try again (451), never 250; once Redis has room, the same
 * message is taken. On a private redis-server: the shared one is never reconfigured.
 */
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { startPrivateRedisServer, type PrivateRedisServer } from '../../src/redis/private-redis-server.ts';
import { dumpKeys } from '../helpers/dump-keys.ts';
import { connectSmtp } from './smtp-client.ts';
import { fixture, inboundEnv, RETURN_PATH, startInbound, type RunningInbound } from './inbound-harness.ts';

let running: RunningInbound | undefined;
let redisServer: PrivateRedisServer | undefined;
let admin: Redis | undefined;
afterEach(async () => {
  await running?.close();
  admin?.disconnect();
  await redisServer?.stop();
  running = admin = redisServer = undefined;
});

it('answers 451 4.3.0 and records nothing while Redis refuses writes, and 250 once it has room again', async () => {
  redisServer = await startPrivateRedisServer();
  running = await startInbound(inboundEnv({ REDIS_URL: redisServer.url }), { redisUrlIsPrivate: true });
  admin = new Redis(redisServer.url);
  const before = await dumpKeys(admin, running.prefix);
  await admin.config('SET', 'maxmemory', '1');

  const dsn = fixture('dsn-hard-user-unknown.eml');
  const client = await connectSmtp(running.url);
  await client.command('EHLO relay.example.net');
  const refused = await client.send({ from: '', to: [RETURN_PATH], raw: dsn });
  expect(refused.data).toEqual({ code: 451, text: '4.3.0 cannot keep the message right now: try again later' });
  expect(await dumpKeys(admin, running.prefix)).toEqual(before);
  expect(running.inbound.counts).toMatchObject({ notRecorded: 1, recorded: 0 });

  await admin.config('SET', 'maxmemory', '0');
  // The relay tries again, here on the same connection.
  expect((await client.send({ from: '', to: [RETURN_PATH], raw: dsn })).data?.code).toBe(250);
  const jobs = await running.jobs();
  expect(jobs).toHaveLength(1);
  expect(Buffer.from(jobs[0]!.data.raw, 'base64').equals(dsn)).toBe(true);
});
