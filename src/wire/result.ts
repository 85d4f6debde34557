/**
 * Results of parsing untrusted bytes.
 *
 * Guarantee: no function in `wire/` throws on input bytes. A parse either succeeds with a value
 * or fails with a `WireError` naming the layer, a stable machine-readable code, and the byte
 * offset (relative to the start of the buffer handed to that layer) where the problem is.
 */

export type LayerName =
  | 'ethernet'
  | 'vlan'
  | 'arp'
  | 'ipv4'
  | 'icmp'
  | 'udp'
  | 'tcp'
  | 'vxlan'
  | 'geneve'
  | 'gre'
  | 'nvgre'
  | 'stp'
  | 'dhcp'
  | 'payload'
  | 'pcap'
  | 'pcapng';

export interface WireError {
  readonly layer: LayerName;
  /** Stable kebab-case code, e.g. `truncated`, `bad-ihl`, `bad-option-length`. */
  readonly code: string;
  /** Byte offset of the problem in the buffer handed to `check`/`parse` (views checked at an offset count from the buffer's start). */
  readonly offset: number;
  /** One human sentence. */
  readonly message: string;
}

export type WireResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: WireError };

export function ok<T>(value: T): WireResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(
  layer: LayerName,
  code: string,
  offset: number,
  message: string,
): WireResult<T> {
  return { ok: false, error: { layer, code, offset, message } };
}

/** Shorthand for the most common failure: fewer bytes than the layer needs. */
export function truncated<T = never>(layer: LayerName, have: number, need: number, base = 0): WireResult<T> {
  return fail(layer, 'truncated', base + have, `${layer}: need ${need} bytes, have ${have}`);
}
