/**
 * Reading a Redis bitmap. PURE. Redis numbers a bitmap's bits from the most significant bit
 * of its first byte: bit n is (byte n div 8) & (0x80 >> n mod 8).
 */

/**
 * The numbers of the set bits in `bytes` (which start at bit `firstBit`, a multiple of 8)
 * that are >= from and <= upTo, in order, at most `limit` of them.
 */
export function setBits(bytes: Uint8Array, firstBit: number, from: number, upTo: number, limit: number): number[] {
  const found: number[] = [];
  const start = Math.max(0, Math.floor((from - firstBit) / 8));
  for (let i = start; i < bytes.length && found.length < limit; i++) {
    const byte = bytes[i]!;
    if (byte === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if ((byte & (0x80 >> bit)) === 0) continue;
      const n = firstBit + i * 8 + bit;
      if (n < from) continue;
      if (n > upTo) return found;
      found.push(n);
      if (found.length === limit) return found;
    }
  }
  return found;
}
