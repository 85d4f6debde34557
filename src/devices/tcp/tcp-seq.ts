/**
 * TCP sequence-number arithmetic modulo 2^32 (RFC 9293 3.4) and initial sequence numbers chosen as
 * RFC 6528 describes: a clock ticking every 4 us plus a keyed hash of the connection's 4-tuple. The
 * key is fixed per stack (derived from the node's name), so runs are reproducible: no Math.random.
 */
import type { Nanos } from '../../sim/index.js';

/** `a + n` modulo 2^32. */
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;
/** The signed distance from `b` to `a` (a - b), valid while they are less than 2^31 apart. */
export const seqDiff = (a: number, b: number): number => (a - b) | 0;
export const seqLt = (a: number, b: number): boolean => seqDiff(a, b) < 0;
export const seqLeq = (a: number, b: number): boolean => seqDiff(a, b) <= 0;
export const seqGt = (a: number, b: number): boolean => seqDiff(a, b) > 0;
export const seqGeq = (a: number, b: number): boolean => seqDiff(a, b) >= 0;
export const seqMax = (a: number, b: number): number => (seqGt(a, b) ? a : b);

/** FNV-1a over 32-bit words, finished with a murmur3 mix: the "F" of RFC 6528 (not cryptographic; it need not be here). */
export function tupleHash(key: number, words: readonly number[]): number {
  let h = (0x811c9dc5 ^ key) >>> 0;
  for (const w of words) {
    for (let shift = 0; shift < 32; shift += 8) {
      h ^= (w >>> shift) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A stack's secret key for ISNs: a hash of its node's name. */
export function isnKey(nodeName: string): number {
  const words: number[] = [];
  for (let i = 0; i < nodeName.length; i++) words.push(nodeName.charCodeAt(i));
  return tupleHash(0x5eed, words);
}

/** RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 us timer. */
export function initialSequenceNumber(
  key: number,
  localIp: number,
  localPort: number,
  remoteIp: number,
  remotePort: number,
  now: Nanos,
): number {
  const m = Math.floor(now / 4000) >>> 0;
  return seqAdd(tupleHash(key, [localIp, localPort, remoteIp, remotePort]), m);
}
