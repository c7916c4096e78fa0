/** Whether an address lies in a CIDR range, IPv4 or IPv6. PURE (no node:net: the SPF core stays free of I/O modules). */

function ipv4Bits(address: string): bigint | undefined {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return undefined;
  return parts.reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Bits(address: string): bigint | undefined {
  let text = address.toLowerCase();
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const bits = ipv4Bits(v4[1]!);
    if (bits === undefined) return undefined;
    text = `${text.slice(0, v4.index)}${(bits >> 16n).toString(16)}:${(bits & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (all.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return all.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

export type IpFamily = 4 | 6;

export function ipFamily(address: string): IpFamily | undefined {
  if (ipv4Bits(address) !== undefined) return 4;
  if (ipv6Bits(address) !== undefined) return 6;
  return undefined;
}

/** `address` in `network/prefix`; false when the families differ or either is not an address. */
export function inCidr(address: string, network: string, prefix: number): boolean {
  const family = ipFamily(address);
  if (family === undefined || ipFamily(network) !== family) return false;
  const width = family === 4 ? 32 : 128;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > width) return false;
  const bits = family === 4 ? ipv4Bits : ipv6Bits;
  const shift = BigInt(width - prefix);
  return bits(address)! >> shift === bits(network)! >> shift;
}

/** 127.0.0.0/8, ::1 and the name localhost: a relay on this machine. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || inCidr(bare, '127.0.0.0', 8) || inCidr(bare, '::1', 128);
}
