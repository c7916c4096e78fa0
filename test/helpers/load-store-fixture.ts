/**
 * A store fixture: every key a store wrote under one prefix, as JSON in test/fixtures (e.g.
 * store-layout-1.json, built by test/fixtures/build-layout-1-store.ts of commit f1b4be1 on
 * layout 1's code, and removed after it: it only compiles against that code), and loaded back into a
 * Redis under another prefix, so a test can read or migrate a store written by older code.
 * Knows Redis types and the `<prefix>:{<prefix>}:` key shape only, nothing of a store's layout.
 */
import { readFile } from 'node:fs/promises';
import type { RedisClient } from '../../src/redis/redis-client.ts';
import { globLiteral, scanKeys } from '../../src/redis/scan-keys.ts';

export type FixtureKey =
  | { type: 'string'; value: string; ttl?: number }
  | { type: 'hash'; value: Record<string, string>; ttl?: number }
  | { type: 'zset'; value: [member: string, score: number][]; ttl?: number }
  | { type: 'set' | 'list'; value: string[]; ttl?: number };

export interface StoreFixture {
  /** The script, the commit it ran on, the day. */
  builtBy: string;
  format: string;
  /** The prefix the keys were written under (and their hash tag's name). */
  prefix: string;
  /** What the store that wrote it read back from it: counts, every subscriber, list orders. */
  expected: {
    counts: {
      subscribers: number;
      lists: Record<string, number>;
      statuses: Record<string, number>;
      listStatuses: Record<string, Record<string, number>>;
    };
    attributeNames: string[];
    removedEmails: string[];
    /** Ids with a "confirmation sent" mark. */
    confirmationSent: string[];
    /** Ids of each list in its paging order. */
    listOrder: Record<string, string[]>;
    /** Subscriber id -> campaign id -> when it soft-bounced. */
    softBounces: Record<string, Record<string, string>>;
    /** Every subscriber as the store read it, in its order of all subscribers. */
    subscribers: object[];
  };
  keys: Record<string, FixtureKey>;
}

export async function readStoreFixture(path: string): Promise<StoreFixture> {
  return JSON.parse(await readFile(path, 'utf8')) as StoreFixture;
}

/** `from:{from}:rest` -> `to:{to}:rest`; any other key is refused, so nothing lands outside the prefix. */
export function renameFixtureKey(key: string, from: string, to: string): string {
  const head = `${from}:{${from}}:`;
  if (!key.startsWith(head)) throw new Error(`fixture key ${key} is not under ${head}`);
  return `${to}:{${to}}:${key.slice(head.length)}`;
}

/**
 * Writes every key of the fixture under `prefix` (with the hash tag `{prefix}`); a key that
 * expired keeps a TTL of the same length. Returns the keys written. Refuses a prefix that
 * already holds keys of the fixture's names: a fixture loads into a fresh prefix.
 */
export async function loadStoreFixture(redis: RedisClient, fixture: StoreFixture, prefix: string): Promise<string[]> {
  const entries = Object.entries(fixture.keys).map(([key, entry]) => [renameFixtureKey(key, fixture.prefix, prefix), entry] as const);
  const names = entries.map(([key]) => key);
  // One hash tag: on a Cluster every key is in one slot, so one EXISTS and one pipeline do.
  if (names.length && (await redis.exists(...names)) > 0) throw new Error(`prefix ${prefix} already holds keys of the fixture`);
  const pipeline = redis.pipeline();
  for (const [key, entry] of entries) {
    if (entry.type === 'string') pipeline.set(key, entry.value);
    else if (entry.type === 'hash') pipeline.hset(key, entry.value);
    else if (entry.type === 'zset') pipeline.zadd(key, ...entry.value.flatMap(([member, score]) => [score, member]));
    else if (entry.type === 'set') pipeline.sadd(key, ...entry.value);
    else pipeline.rpush(key, ...entry.value);
    if (entry.ttl !== undefined) pipeline.expire(key, entry.ttl);
  }
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  return names;
}

/**
 * Every key under `prefix` as a fixture's `keys`: sorted names, hash fields and set members
 * sorted, zsets in score order, a TTL to the minute (so a rebuild a few seconds slower writes
 * the same file).
 */
export async function dumpStoreFixture(redis: RedisClient, prefix: string): Promise<Record<string, FixtureKey>> {
  const keys = await scanKeys(redis, `${globLiteral(prefix)}:*`);
  const dump: Record<string, FixtureKey> = {};
  for (const key of keys.sort()) {
    const type = await redis.type(key);
    let entry: FixtureKey;
    if (type === 'string') entry = { type, value: (await redis.get(key))! };
    else if (type === 'hash') entry = { type, value: sortedObject(await redis.hgetall(key)) };
    else if (type === 'set') entry = { type, value: (await redis.smembers(key)).sort() };
    else if (type === 'list') entry = { type, value: await redis.lrange(key, 0, -1) };
    else if (type === 'zset') {
      const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
      const pairs: [string, number][] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, Number(flat[i + 1])]);
      entry = { type, value: pairs };
    } else throw new Error(`${key}: a ${type} has no fixture form`);
    const ttl = await redis.pttl(key);
    if (ttl >= 0) entry.ttl = Math.round(ttl / 60_000) * 60;
    dump[key] = entry;
  }
  return dump;
}

function sortedObject(value: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Paths of the fixture laid out one line per item (a key, a subscriber, a list's order); the rest on one line each. */
const EXPANDED = new Set(['', 'expected', 'expected.listOrder', 'expected.subscribers', 'keys']);

/** The fixture as stable, diffable JSON: one key, or one subscriber, a line. */
export function formatStoreFixture(fixture: StoreFixture): string {
  const print = (value: unknown, path: string, indent: string): string => {
    if (!EXPANDED.has(path) || value === null || typeof value !== 'object') return JSON.stringify(value);
    const inner = `${indent}  `;
    const child = (key: string) => (path ? `${path}.${key}` : key);
    if (Array.isArray(value)) return `[\n${value.map((item: unknown) => inner + print(item, child('[]'), inner)).join(',\n')}\n${indent}]`;
    const lines = Object.entries(value).map(([key, item]) => `${inner}${JSON.stringify(key)}: ${print(item, child(key), inner)}`);
    return `{\n${lines.join(',\n')}\n${indent}}`;
  };
  return `${print(fixture, '', '')}\n`;
}

/**
 * A list's members in the order they joined the newsletter, as layout 2 pages a list (by
 * subscriber number). Layout 1 paged by when each joined that list, which differs for a
 * subscriber who joined a second list later: the members are the same either way.
 */
export function joinOrder(fixture: StoreFixture, list: string): string[] {
  return (fixture.expected.subscribers as { id: string; lists: string[] }[]).filter((s) => s.lists.includes(list)).map((s) => s.id);
}
