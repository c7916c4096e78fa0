import { describe, expect, it } from 'vitest';
import { setBits } from '../../src/subscribers/set-bits.ts';

/** The same question answered one bit at a time. */
function naive(bytes: Uint8Array, firstBit: number, from: number, upTo: number, limit: number): number[] {
  const found: number[] = [];
  for (let n = firstBit; n < firstBit + bytes.length * 8 && found.length < limit; n++) {
    const i = n - firstBit;
    if (n >= from && n <= upTo && bytes[i >> 3]! & (0x80 >> (i & 7))) found.push(n);
  }
  return found;
}

describe('the set bits of a Redis bitmap', () => {
  it('numbers bits from the most significant bit of the first byte, as SETBIT does', () => {
    expect(setBits(Uint8Array.from([0b1000_0001, 0b0100_0000]), 0, 0, Infinity, 10)).toEqual([0, 7, 9]);
    expect(setBits(Uint8Array.from([0b1000_0001]), 4096, 0, Infinity, 10)).toEqual([4096, 4103]);
  });

  it('agrees with a bit-by-bit reading on random bitmaps, ranges and limits', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 300; round++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 40) }, () => (random() < 0.3 ? 0 : Math.floor(random() * 256)));
      const firstBit = 8 * Math.floor(random() * 4);
      const from = firstBit + Math.floor(random() * bytes.length * 8);
      const upTo = random() < 0.3 ? Infinity : from + Math.floor(random() * 200);
      const limit = 1 + Math.floor(random() * 50);
      expect(setBits(bytes, firstBit, from, upTo, limit)).toEqual(naive(bytes, firstBit, from, upTo, limit));
    }
  });
});
