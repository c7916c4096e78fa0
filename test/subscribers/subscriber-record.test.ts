import { describe, expect, it } from 'vitest';
import { legacyRecordValue, parseLegacyRecord, parseRecord, recordValue } from '../../src/subscribers/subscriber-record.ts';
import type { Subscriber } from '../../src/subscribers/subscriber.ts';

const at = '2026-03-04T05:06:07.089Z';
const later = '2026-03-09T10:11:12.013Z';

const base: Subscriber = {
  id: '42',
  email: 'Reader.One@example.com',
  name: 'Zoë Müller',
  lists: ['weekly', 'vip'],
  status: 'active',
  attributes: { city: 'Köln', plan: 'pro' },
  createdAt: at,
  updatedAt: at,
  history: [{ status: 'active', reason: 'imported', at }],
};

const cases: [string, Subscriber][] = [
  ['an imported subscriber', base],
  ['one added without name or attributes', { ...base, name: undefined, attributes: {}, history: [{ status: 'active', reason: 'added', at }] }],
  [
    'a Chinese name, and attribute values with commas, quotes, newlines and control characters',
    { ...base, name: '李伟', attributes: { note: 'a, "b"\nc\u001fd\u0000', 名字: '值' } },
  ],
  [
    'a history of several changes, updated later',
    {
      ...base,
      status: 'unsubscribed',
      updatedAt: later,
      history: [
        { status: 'pending', reason: 'subscribed on the web form', at },
        { status: 'active', reason: 'confirmed by email link', at: later },
        { status: 'unsubscribed', reason: 'one-click unsubscribe | from "Gmail"', at: later },
      ],
    },
  ],
  ['a creation reason that is neither added nor imported', { ...base, status: 'bounced', history: [{ status: 'bounced', reason: 'imported as bounced', at }] }],
  ['a subscriber on no list', { ...base, lists: [] }],
];

describe('the stored form of a subscriber (layout 2)', () => {
  it.each(cases)('reads back exactly: %s', (_name, subscriber) => {
    const expected = { ...subscriber };
    if (expected.name === undefined) delete expected.name;
    const value = recordValue(subscriber, 7);
    expect(parseRecord(subscriber.id, value)).toEqual({ subscriber: expected, rev: '7' });
  });

  it('takes the id from where it is kept, not from the value', () => {
    expect(parseRecord('q3Zx_9-kLm0PaB7w', recordValue(base, 1))?.subscriber.id).toBe('q3Zx_9-kLm0PaB7w');
  });

  it('is about a third of layout 1 for an imported subscriber with a name and two attributes', () => {
    const value = recordValue(base, 1);
    const legacy = legacyRecordValue({ ...base, id: 'q3Zx_9-kLm0PaB7w' }, 1);
    expect(Buffer.byteLength(value)).toBeLessThan(Buffer.byteLength(legacy) / 2.5);
    expect(parseLegacyRecord(legacy)?.subscriber).toEqual({ ...base, id: 'q3Zx_9-kLm0PaB7w' });
  });

  it.each([
    ['nothing', ''],
    ['no rev', 'x|a@b.c'],
    ['too few fields', `1|a@b.c\u001fname`],
    ['an unknown status letter', `1|a@b.c\u001f\u001fz\u001f${(1e12).toString(36)}\u001f\u001fweekly\u001f\u001f`],
    ['a history that is not JSON', `1|a@b.c\u001f\u001fa\u001f${(1e12).toString(36)}\u001f\u001fweekly\u001f\u001f[oops`],
  ])('answers undefined for a damaged value: %s', (_name, value) => {
    expect(parseRecord('1', value)).toBeUndefined();
  });
});
