/**
 * Walking the keys that match a pattern, on every node that holds keys: SCAN sees one node's
 * keys, so on a Cluster each master is walked. Adapter.
 */
import type { RedisClient } from './redis-client.ts';
import { primariesOf } from './redis-connection.ts';

/** `text` as a literal in a SCAN MATCH pattern (glob characters escaped). */
export function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** The matching keys a SCAN step at a time, with the node each page came from. */
export async function* scanKeyPages(redis: RedisClient, pattern: string): AsyncGenerator<{ node: RedisClient; keys: string[] }> {
  for (const node of primariesOf(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) yield { node, keys };
    } while (cursor !== '0');
  }
}

/** Every matching key. */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for await (const { keys } of scanKeyPages(redis, pattern)) found.push(...keys);
  return found;
}
