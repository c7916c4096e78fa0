/**
 * Where subscribers live in Redis (layout 2). PURE. All keys sit under `${prefix}:` with the
 * hash tag `{prefix}`, so every script also runs on Redis Cluster (a newsletter's subscriber
 * keys share one slot).
 *
 * Each subscriber has a number `n` (its join order; its id is `n` in decimal, see
 * subscriber-id.ts). Redis keeps a hash of up to 128 small fields in a compact "listpack"
 * (about the size of the data) but a key of its own costs ~90 bytes before any data, and a
 * zset member ~100, so subscribers are kept in buckets, not one key each:
 *   P:{P}:sub:n                 string the last number given out
 *   P:{P}:sub:r:<n div 128>     hash   n mod 128 -> the record (subscriber-record.ts)
 *   P:{P}:sub:e:<hash(email)>   hash   lower-cased email -> n, in EMAIL_BUCKETS buckets (uniqueness)
 *   P:{P}:sub:m                 bitmap bit n set: subscriber n exists (paging everybody in join order)
 *   P:{P}:sub:m:<list>          bitmap bit n set: n is on the list (one bit per subscriber a list)
 *   P:{P}:sub:counts            hash   list -> members, ALL_COUNT -> every subscriber
 *   P:{P}:sub:a:<hash(id)>      hash   a layout-1 id -> n, for subscribers moved from layout 1,
 *                                      in as many buckets as `a-buckets` says (set by the move)
 *   P:{P}:sub:a-buckets         string how many: about 64 moved subscribers a bucket
 *   P:{P}:sub:j:<n div 128>     hash   n mod 128 -> its layout-1 id (the id they keep)
 *   P:{P}:sub:attributes        set    every attribute name imported (export's columns)
 *   P:{P}:sub:confirm-sent:<id> string a confirmation email went out (expires)
 *   P:{P}:sub:soft:<id>         hash   campaign id -> when a soft bounce came back from it (soft-bounces.ts)
 *
 * Layout 1 (one string per subscriber, an email hash and zsets) is read while a store is
 * moved over (legacyKeys below, subscriber-migration.ts).
 */

/** Fields per record bucket: Redis's default hash-max-listpack-entries. */
export const BUCKET_SIZE = 128;

/**
 * Email index buckets: a million addresses make ~15 a bucket, compact up to ~8 million
 * (hash-max-listpack-entries 128); a small newsletter pays one small key per address.
 */
export const EMAIL_BUCKETS = 65_536;

/** The counts field of every subscriber: not a list name (those start with a letter or digit). */
export const ALL_COUNT = '@all';

export interface SubscriberKeys {
  readonly number: string;
  /** Key prefixes the scripts complete with a bucket number or a list name. */
  readonly recordBucketPrefix: string;
  readonly legacyIdBucketPrefix: string;
  readonly membersPrefix: string;
  readonly recordBucket: (n: number) => string;
  readonly emailBucket: (emailKey: string) => string;
  /** A list's membership bitmap; every subscriber's when list is undefined. */
  readonly members: (list: string | undefined) => string;
  readonly counts: string;
  /** `buckets`: what `aliasBuckets` holds; undefined before any move (no alias exists then). */
  readonly aliasBucket: (legacyId: string, buckets: number | undefined) => string;
  readonly aliasBuckets: string;
  readonly legacyIdBucket: (n: number) => string;
  readonly attributeNames: string;
  readonly confirmSent: (id: string) => string;
  readonly softBounces: (id: string) => string;
}

export function subscriberKeys(prefix: string): SubscriberKeys {
  const base = `${prefix}:{${prefix}}:sub`;
  return {
    number: `${base}:n`,
    recordBucketPrefix: `${base}:r:`,
    legacyIdBucketPrefix: `${base}:j:`,
    membersPrefix: `${base}:m:`,
    recordBucket: (n) => `${base}:r:${bucketOf(n)}`,
    emailBucket: (emailKey) => `${base}:e:${hashBucket(emailKey, EMAIL_BUCKETS)}`,
    members: (list) => (list === undefined ? `${base}:m` : `${base}:m:${list}`),
    counts: `${base}:counts`,
    aliasBucket: (legacyId, buckets) => (buckets === undefined ? `${base}:a:none` : `${base}:a:${hashBucket(legacyId, buckets)}`),
    aliasBuckets: `${base}:a-buckets`,
    legacyIdBucket: (n) => `${base}:j:${bucketOf(n)}`,
    attributeNames: `${base}:attributes`,
    confirmSent: (id) => `${base}:confirm-sent:${id}`,
    softBounces: (id) => `${base}:soft:${id}`,
  };
}

/** The bucket of subscriber n, and its field in it. */
export const bucketOf = (n: number): number => Math.floor(n / BUCKET_SIZE);
export const fieldOf = (n: number): string => String(n % BUCKET_SIZE);

/** FNV-1a over UTF-16 code units: fast, stable across processes, and even enough for bucketing. */
export function hashBucket(text: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % buckets;
}

/** Layout 1's keys, read while a store is moved to layout 2 and deleted as it is. */
export interface LegacyKeys {
  readonly record: (id: string) => string;
  readonly emailIndex: string;
  readonly all: string;
  readonly list: (name: string) => string;
  readonly seq: string;
}

export function legacyKeys(prefix: string): LegacyKeys {
  const base = `${prefix}:{${prefix}}:sub`;
  return {
    record: (id) => `${base}:s:${id}`,
    emailIndex: `${base}:email`,
    all: `${base}:all`,
    list: (name) => `${base}:list:${name}`,
    seq: `${base}:seq`,
  };
}
