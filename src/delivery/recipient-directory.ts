/**
 * What delivery needs to know about subscribers: the narrow slice of SubscriberStore
 * it uses, so tests and other stores can stand in.
 */
import type { Subscriber } from '../subscribers/subscriber.ts';

export interface RecipientDirectory {
  /** In the same order; removed ids are left out. */
  getMany(ids: readonly string[]): Promise<Subscriber[]>;
  /** Right before each send: only `active` subscribers receive. */
  canReceive(id: string): Promise<boolean>;
  /** changed: false when it was bounced (or otherwise suppressed the same way) already. */
  markBounced(id: string, reason: string): Promise<{ changed: boolean }>;
  iterateListIds(list: string, batchSize?: number): AsyncIterable<string[]>;
}
