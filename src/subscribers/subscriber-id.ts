/**
 * Subscriber ids. PURE. A subscriber's id is its number (join order) in decimal: short in
 * every batch job, ledger entry and link. Subscribers created before layout 2 keep the id
 * they had (96 random bits, base64url, 16 characters), which no number can be mistaken for
 * (a number has at most 15 digits), so links already sent keep working.
 */

const NUMBER_ID = /^[1-9]\d{0,14}$/;

export const idOfNumber = (n: number): string => String(n);

/** The number an id names, or undefined for a layout-1 id (or none at all). */
export function numberOfId(id: string): number | undefined {
  return NUMBER_ID.test(id) ? Number(id) : undefined;
}
