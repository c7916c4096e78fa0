import { fieldOf, subscriberKeys } from '../../src/subscribers/subscriber-keys.ts';
import { numberOfId } from '../../src/subscribers/subscriber-id.ts';

/** The dumpEntries name of a subscriber's record (a number id: one created in layout 2). */
export function recordEntry(prefix: string, id: string): string {
  const n = numberOfId(id);
  if (n === undefined) throw new Error(`recordEntry: ${id} is not a layout-2 id`);
  return `${subscriberKeys(prefix).recordBucket(n)}#${fieldOf(n)}`;
}
