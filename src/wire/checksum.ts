/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * `onesComplementSum` folds a byte range into a 16-bit one's-complement sum; `internetChecksum`
 * is its complement. A buffer that includes its own correct checksum sums to 0xffff, which is how
 * `verify` works. IPv4 pseudo-headers for UDP/TCP are summed with `pseudoHeaderSum`.
 */

/** 16-bit one's-complement sum of b[start, end), added to `initial` (an unfolded or folded sum). */
export function onesComplementSum(b: Uint8Array, start = 0, end = b.length, initial = 0): number {
  let sum = initial;
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i === last) sum += b[i]! << 8; // odd length: pad with a zero byte (RFC 1071 4.1)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function internetChecksum(b: Uint8Array, start = 0, end = b.length, initial = 0): number {
  return ~onesComplementSum(b, start, end, initial) & 0xffff;
}

/** Sum of the IPv4 pseudo-header (RFC 768, RFC 793): src, dst, zero, protocol, upper-layer length. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  let sum = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from m to m'.
 * Unlike RFC 1141's shortcut it never yields 0xffff (-0) for a header whose true sum is not zero:
 * the one difference from a full recomputation is a buffer that became all zeros, where this gives
 * 0x0000 and recomputing gives 0xffff (both verify; an IPv4 header is never all zeros).
 */
export function incrementalChecksumUpdate(checksum: number, oldWord: number, newWord: number): number {
  let sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
