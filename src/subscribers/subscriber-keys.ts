/**
 * Where subscribers live in Redis. All keys sit under `${prefix}:` with the hash tag
 * `{prefix}`, so the multi-key scripts also run on Redis Cluster (every subscriber key of a
 * newsletter lives in one slot):
 *   P:{P}:sub:s:<id>             string one subscriber, `<rev>|<json>` (see subscriber-record.ts)
 *   P:{P}:sub:email              hash   lower-cased email -> id (uniqueness)
 *   P:{P}:sub:all                zset   every id, scored by join order
 *   P:{P}:sub:list:<name>        zset   members of a list, scored by join order (stable paging)
 *   P:{P}:sub:seq                string the join-order counter
 *   P:{P}:sub:attributes         set    every attribute name imported (export's columns)
 *   P:{P}:sub:confirm-sent:<id>  string a confirmation email went out (expires)
 *   P:{P}:sub:soft:<id>          hash   campaign id -> when a soft bounce came back from it (soft-bounces.ts)
 */
/** Plain functions, not methods: they are passed around on their own (`lists.map(keys.list)`). */
export interface SubscriberKeys {
  readonly record: (id: string) => string;
  readonly emailIndex: string;
  readonly all: string;
  readonly list: (name: string) => string;
  readonly seq: string;
  readonly attributeNames: string;
  readonly confirmSent: (id: string) => string;
  readonly softBounces: (id: string) => string;
}

export function subscriberKeys(prefix: string): SubscriberKeys {
  const base = `${prefix}:{${prefix}}:sub`;
  return {
    record: (id) => `${base}:s:${id}`,
    emailIndex: `${base}:email`,
    all: `${base}:all`,
    list: (name) => `${base}:list:${name}`,
    seq: `${base}:seq`,
    attributeNames: `${base}:attributes`,
    confirmSent: (id) => `${base}:confirm-sent:${id}`,
    softBounces: (id) => `${base}:soft:${id}`,
  };
}
