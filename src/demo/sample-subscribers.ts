/**
 * Made-up subscribers for `newsletter demo`, as the CSV an operator would import. PURE.
 * Addresses are on example.com and example.org (reserved: no real mailbox), and a few names
 * are not ASCII or hold a comma, so the demo shows them surviving import, headers and
 * bodies.
 */
import { stringify } from 'csv-stringify/sync';

const FIRST = ['Ann', 'Ben', 'Chen', 'Dana', 'Emil', 'Fatima', 'Gus', 'Hana', 'Ivo', 'Jia'];
const LAST = ['Lee', 'Moreau', 'Novak', 'Okafor', 'Park', 'Quist', 'Rossi', 'Sato', 'Tran', 'Weber'];
const CITIES = ['Hangzhou', 'Lisbon', 'Nairobi', 'Oslo', 'Lima'];

/** Subscribers whose names test encodings and quoting; always part of the sample. */
const SPECIAL_SAMPLE_SUBSCRIBERS = [
  { email: 'zoe.lefevre@example.org', name: 'Zoë Lefèvre', city: 'Montréal' },
  { email: 'li.lei@example.com', name: '李雷', city: '杭州' },
  { email: 'asa.oberg@example.org', name: 'Åsa Øberg, PhD', city: 'Tromsø' },
] as const;

export interface SampleSubscriber {
  email: string;
  name: string;
  city: string;
}

/** `count` subscribers in all (at least the special ones), in a stable order. */
export function sampleSubscribers(count: number): SampleSubscriber[] {
  const generated = Math.max(0, count - SPECIAL_SAMPLE_SUBSCRIBERS.length);
  const rows: SampleSubscriber[] = SPECIAL_SAMPLE_SUBSCRIBERS.map((s) => ({ ...s }));
  for (let i = 1; i <= generated; i++) {
    const first = FIRST[i % FIRST.length]!;
    const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!;
    const domain = i % 2 === 0 ? 'example.com' : 'example.org';
    rows.push({ email: `reader${String(i).padStart(3, '0')}@${domain}`, name: `${first} ${last}`, city: CITIES[i % CITIES.length]! });
  }
  return rows;
}

/** The header row `email,name,city` (city becomes an attribute) and one row per subscriber. */
export function sampleSubscribersCsv(count: number): string {
  return stringify(sampleSubscribers(count), { header: true, columns: ['email', 'name', 'city'] });
}
