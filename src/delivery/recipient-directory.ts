/**
 * What delivery needs to know about subscribers: the narrow slice of SubscriberStore
 * it uses, so tests and other stores can stand in.
 */
import type { Subscriber } from '../subscribers/subscriber.ts';
import type { ListPage } from '../subscribers/subscriber-store.ts';

export interface RecipientDirectory {
  /** In the same order; removed ids are left out. */
  getMany(ids: readonly string[]): Promise<Subscriber[]>;
  /** Right before each send: only `active` subscribers receive. */
  canReceive(id: string): Promise<boolean>;
  /** changed: false when it was bounced (or otherwise suppressed the same way) already. */
  markBounced(id: string, reason: string): Promise<{ changed: boolean }>;
  /** Members in join order, after a position (exclusive). */
  listPages(list: string, options: { after?: number; size?: number }): AsyncIterable<ListPage>;
}
