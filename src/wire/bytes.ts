/**
 * Big-endian (network order) integer access on `Uint8Array`, and hex helpers.
 *
 * Readers assume the caller has already checked bounds (views do that once in `check()`).
 * Writers never allocate. Works on subarrays of pooled buffers (no `.buffer` offsets assumed).
 */

export function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function readU24(b: Uint8Array, o: number): number {
  return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
}

export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

export function writeU24(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 16;
  b[o + 1] = v >>> 8;
  b[o + 2] = v;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** Little-endian readers, for pcap headers written on little-endian machines. */
export function readU16le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

export function readU32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export function writeU16le(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
}

export function writeU32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

const HEX = '0123456789abcdef';

export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const v = b[i]!;
    s += HEX[v >>> 4]! + HEX[v & 15]!;
  }
  return s;
}

/** Parses hex, ignoring whitespace, colons and dashes. Throws on odd length or bad digits (for fixtures and config, never for packets). */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:-]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new Error(`invalid hex string (${clean.length} digits)`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Copies `src[start, end)` into `dst` at `at`. Short runs (a header, a small frame) are copied byte
 * by byte, which costs less than the view `subarray` makes for `set`; long ones use `set`.
 */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, start: number, end: number): void {
  if (end - start > 96) {
    dst.set(src.subarray(start, end), at);
    return;
  }
  for (let i = start; i < end; i++) dst[at++] = src[i]!;
}

/**
 * Frame allocation from shared slabs. A `new Uint8Array(n)` above V8's on-heap limit (64 bytes)
 * costs an ArrayBuffer and its external backing store each time (~300 ns and GC work); frames are
 * instead carved out of 64 KiB slabs as views (~20 ns). Every region is handed out once, so it
 * starts zeroed. A view keeps its slab alive, which is fine for frames (short-lived, or kept in
 * captures alongside their neighbours). Large buffers get their own allocation.
 */
const SLAB_SIZE = 64 * 1024;
const SLAB_MAX_ALLOCATION = 4096;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

export function allocBytes(length: number): Uint8Array {
  if (length > SLAB_MAX_ALLOCATION) return new Uint8Array(length);
  if (slabUsed + length > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const view = new Uint8Array(slab, slabUsed, length);
  slabUsed += (length + 7) & ~7; // keep 8-byte alignment for the next frame
  return view;
}
