import { describe, expect, it } from 'vitest';
import { decodeLedgerEntry, encodeLedgerEntry, isOutcomeUnknown, OUTCOME_UNKNOWN_AFTER_CRASH } from '../../src/campaign/delivery-outcome.ts';

const at = new Date('2026-12-05T02:40:12.345Z');

describe('the ledger encoding', () => {
  it('keeps a failure time after its reply, and reads it back to the millisecond', () => {
    const value = encodeLedgerEntry({ outcome: 'failed', detail: '550 5.1.1 User unknown', at });
    expect(value.startsWith('f:550 5.1.1 User unknown')).toBe(true);
    expect(decodeLedgerEntry(value)).toEqual({ outcome: 'failed', detail: '550 5.1.1 User unknown', at });
  });

  it('reads entries written before times were kept, with no time', () => {
    expect(decodeLedgerEntry('f:550 5.1.1 User unknown')).toEqual({ outcome: 'failed', detail: '550 5.1.1 User unknown' });
    expect(decodeLedgerEntry('a')).toEqual({ outcome: 'accepted', detail: '' });
  });

  it('keeps times for failures only: an accepted or skipped entry stays as small as before', () => {
    expect(encodeLedgerEntry({ outcome: 'accepted', detail: '', at })).toBe('a');
    expect(encodeLedgerEntry({ outcome: 'skipped', detail: 'subscriber unsubscribed', at })).toBe('s:subscriber unsubscribed');
  });

  it('keeps the "outcome unknown" prefix the scripts compare first, time or not', () => {
    const value = encodeLedgerEntry({ outcome: 'failed', detail: OUTCOME_UNKNOWN_AFTER_CRASH, at });
    expect(value.startsWith('f:outcome unknown')).toBe(true);
    expect(isOutcomeUnknown(decodeLedgerEntry(value)!)).toBe(true);
  });

  it('never lets a reply forge a time: the separator in a server reply becomes a space', () => {
    const value = encodeLedgerEntry({ outcome: 'failed', detail: '451 odd\u001fzz reply', at });
    expect(decodeLedgerEntry(value)).toEqual({ outcome: 'failed', detail: '451 odd zz reply', at });
  });
});
