/**
 * The underlay an NVE tunnels over, as the NVE sees it: a datagram service between tunnel
 * endpoints (VTEPs). The NVE hands it a tunnel header and an inner frame for a remote VTEP, and
 * it delivers the payloads of datagrams that arrive for the local VTEP on the tunnel's port.
 *
 * Two kinds of datagram: UDP (VXLAN to port 4789, GENEVE to 6081) with source and destination
 * ports, and a bare IP protocol without ports (GRE, IP protocol 47, for NVGRE; a raw socket on
 * Linux). Datagrams leave with DF set: an NVE does not fragment (RFC 7348 4.3), so the underlay
 * refuses a datagram too large for the path instead, and says why.
 *
 * Nothing here belongs to the simulator: bytes are Uint8Arrays, addresses IPv4 numbers, ports and
 * interfaces numbers and names, so the simulated IP stack (sim-underlay.ts) and a real UDP socket
 * can both stand behind it.
 */
import type { Ipv4 } from '../wire/index.js';

/** IP protocol of an underlay datagram: UDP (with ports) or GRE (without). */
export type UnderlayProtocol = 17 | 47;

export const UNDERLAY_UDP: UnderlayProtocol = 17;
export const UNDERLAY_GRE: UnderlayProtocol = 47;

/**
 * Receives the payload of a datagram for the local VTEP: `bytes[offset, end)` (the UDP payload, or
 * the GRE packet), valid during the call only. `src` is the sending VTEP, `srcPort` its UDP source
 * port (0 for GRE), `via` the name of the port it arrived on (undefined when there is none: the
 * VTEP sent it to itself, or the underlay is a real socket).
 */
export type UnderlayReceiver = (
  src: Ipv4,
  srcPort: number,
  bytes: Uint8Array,
  offset: number,
  end: number,
  via: string | undefined,
) => void;

/** Why the underlay would not take a datagram. */
export type UnderlayRefusal =
  | { readonly reason: 'no-route' }
  | {
      /** The datagram (its IPv4 header included) exceeds the MTU of the interface its route leaves by. */
      readonly reason: 'too-big';
      readonly mtu: number;
      /** The interface the route leaves by, and its port. */
      readonly iface: string;
      readonly port: string;
    }
  | {
      /** Any other refusal (a real socket's full send buffer, a firewall): what the system said. */
      readonly reason: 'send-failed';
      readonly why: string;
    };

export interface Underlay {
  /** The local VTEP: the source address of every datagram sent. */
  readonly address: Ipv4;
  /**
   * Sends `header` followed by `payload` as one datagram to `dst`: UDP from `srcPort` to `dstPort`
   * (the source port also picks the path among equal-cost ones: it carries the inner flow's hash),
   * or, for GRE, the bare IP payload (ports unused). Null when the datagram was handed on (the
   * network may still lose it, as networks do), else why it was refused.
   */
  send(
    protocol: UnderlayProtocol,
    dst: Ipv4,
    srcPort: number,
    dstPort: number,
    header: Uint8Array,
    payload: Uint8Array,
  ): UnderlayRefusal | null;
  /** Whether a datagram of `length` bytes (tunnel header and payload) would be taken, without sending it. */
  check(
    protocol: UnderlayProtocol,
    dst: Ipv4,
    srcPort: number,
    dstPort: number,
    length: number,
  ): UnderlayRefusal | null;
  /** Delivers the datagrams of `protocol` for the local VTEP (to UDP port `port`; 0 for GRE) to `receiver`. */
  listen(protocol: UnderlayProtocol, port: number, receiver: UnderlayReceiver): void;
  /** Stops delivering what `listen` asked for. */
  close(protocol: UnderlayProtocol, port: number): void;
}
